"""Personal API tokens: create (the secret shown once), list, revoke; prove one on a request.

A token reads ``csm_<prefix>_<secret>``. The row keeps the prefix (to find it) and the SHA-256
digest of the whole token (to prove it), never the token itself. A revoked or expired token is
refused like an unknown one. ``last_used_at`` is written at most once a minute per token, so a
busy integration does not turn every read into a write.
"""

import hashlib
import hmac
import secrets
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import ApiToken
from .security_log import log_event

PREFIX_BYTES = 6  # 12 hex characters
SECRET_BYTES = 32
LAST_USED_EVERY = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20
MAX_EXPIRY_DAYS = 366 * 2


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(expires_on: date | None, *, today: date) -> datetime | None:
    if expires_on is None:
        return None
    if expires_on <= today:
        raise ValidationError({"expires_on": "Choose a day after today, or leave it empty for no expiry."})
    if expires_on > today + timedelta(days=MAX_EXPIRY_DAYS):
        raise ValidationError({"expires_on": f"A token can last at most {MAX_EXPIRY_DAYS} days."})
    # Usable through the whole of that day, in the site's time zone.
    return timezone.make_aware(datetime.combine(expires_on + timedelta(days=1), time.min))


@transaction.atomic
def create_token(*, user: User, name: str, expires_on: date | None, now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the token, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it (e.g. “CRM sync”)."})
    if len(name) > 80:
        raise ValidationError({"name": "At most 80 characters."})
    if "\x00" in name:
        raise ValidationError({"name": "The name contains a character that is not allowed."})
    if user.api_tokens.filter(name=name).exists():
        raise ValidationError({"name": "You already have a token with this name."})
    if user.api_tokens.filter(revoked_at__isnull=True).count() >= MAX_TOKENS_PER_USER:
        raise ValidationError({"name": f"You have {MAX_TOKENS_PER_USER} tokens; revoke one first."})
    expires_at = _expiry(expires_on, today=timezone.localdate(now))
    prefix = secrets.token_hex(PREFIX_BYTES)
    raw = f"csm_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest=_digest(raw), created_at=now, expires_at=expires_at
    )
    log_event("token.created", user=user, token=prefix, token_name=name, expires_at=expires_at)
    return token, raw


@transaction.atomic
def revoke_token(*, token: ApiToken, by: User, now: datetime) -> ApiToken:
    """Revoke one of ``by``'s own tokens (admins revoke any in Django admin, through here too)."""
    if token.user_id != by.pk and not by.is_superuser:
        raise ValidationError("You can revoke only your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        log_event("token.revoked", user=by, token=token.prefix, owner=token.user.get_username())
    return token


def find_token(raw: str, *, now: datetime) -> ApiToken | None:
    """The usable token ``raw`` proves, or None (unknown, malformed, revoked, expired, inactive user)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "csm" or len(parts[1]) != PREFIX_BYTES * 2:
        return None
    token = ApiToken.objects.usable(now=now).select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    if not token.user.is_active:
        return None
    return token


def note_use(token: ApiToken, *, now: datetime, ip: str) -> None:
    """Record the use, at most once per LAST_USED_EVERY (a conditional update, no read-modify-write)."""
    if token.last_used_at and now - token.last_used_at < LAST_USED_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip or None)
