"""Single sign-on with OpenID Connect (mozilla-django-oidc), configured by environment only.

Off unless ``OIDC_CLIENT_ID`` is set (csm/settings.py). The provider's endpoints come from
discovery of ``OIDC_ISSUER`` (fetched on first use, kept for an hour) or from the explicit
``OIDC_*_ENDPOINT`` variables. A person is found by the provider's stable id (issuer, ``sub``,
``SSOIdentity``); their csm role comes from one claim (``OIDC_ROLE_CLAIM``) whose values map to
roles (``OIDC_ROLE_MAP``) and is set again at every sign-in. A person with no mapped value is
refused. A session made by SSO is not asked for csm's own second factor: the provider does it
(README "Single sign-on").
"""

import hashlib
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import roles
from .models import SSOIdentity

SSO_BACKEND = "csm.sso.SSOBackend"
# A person with values that map to several roles gets the strongest.
ROLE_PRECEDENCE = (roles.ADMIN, roles.MANAGER, roles.CSM, roles.READ_ONLY)
DISCOVERY_SECONDS = 60 * 60
# What Django accepts as a user name (UnicodeUsernameValidator).
USERNAME = re.compile(r"[\w.@+-]+")


class ProviderUnavailableError(Exception):
    """The identity provider could not be reached, or its discovery document is unusable."""


def enabled() -> bool:
    return bool(settings.OIDC_ENABLED)


def password_sign_in() -> bool:
    """Whether the user name and password form signs people in (always, while SSO is off)."""
    return bool(settings.PASSWORD_SIGN_IN) or not enabled()


def signed_in_by_sso(request: HttpRequest) -> bool:
    """The session was made by SSO (Django records the backend that authenticated it)."""
    session = getattr(request, "session", None)
    return session is not None and session.get(BACKEND_SESSION_KEY) == SSO_BACKEND


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    userinfo: str
    jwks: str
    end_session: str


_discovered: dict[str, tuple[float, dict]] = {}


def discovery(issuer: str) -> dict:
    """The provider's discovery document, fetched once an hour per process."""
    cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
        return cached[1]
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailableError(f"The identity provider at {issuer} could not be reached ({exc}).") from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailableError(f"The discovery document of {issuer} names another issuer.")
    _discovered[issuer] = (time.monotonic(), document)
    return document


def endpoints() -> Endpoints:
    """Each endpoint from its explicit setting, else from discovery of OIDC_ISSUER."""
    issuer = settings.OIDC_ISSUER
    document = discovery(issuer) if issuer else {}

    def pick(setting: str, key: str) -> str:
        return getattr(settings, setting, "") or str(document.get(key) or "")

    found = Endpoints(
        issuer=issuer,
        authorization=pick("OIDC_OP_AUTHORIZATION_ENDPOINT", "authorization_endpoint"),
        token=pick("OIDC_OP_TOKEN_ENDPOINT", "token_endpoint"),
        userinfo=pick("OIDC_OP_USER_ENDPOINT", "userinfo_endpoint"),
        jwks=pick("OIDC_OP_JWKS_ENDPOINT", "jwks_uri"),
        end_session=pick("OIDC_OP_LOGOUT_ENDPOINT", "end_session_endpoint"),
    )
    if not (found.authorization and found.token):
        raise ProviderUnavailableError("The identity provider names no authorization or token endpoint.")
    return found


def end_session_url(*, id_token: str | None, after: str) -> str | None:
    """Where the browser goes to end the provider's session too (None: it offers no endpoint)."""
    try:
        endpoint = endpoints().end_session
    except ProviderUnavailableError:
        return None
    if not endpoint:
        return None
    params = {"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": after}
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


# --- Claims to a csm user -------------------------------------------------------------------


def claim_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The string values of ``claim``: a string or a list of strings; a dotted name reads a
    nested claim (``realm_access.roles``)."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def role_from_claims(claims: Mapping[str, Any], *, claim: str, mapping: Mapping[str, str]) -> str | None:
    """The csm role the claims give, the strongest when several values map; None when none does."""
    given = {mapping[value] for value in claim_values(claims, claim) if value in mapping}
    return next((role for role in ROLE_PRECEDENCE if role in given), None)


def _clean(value: Any, *, limit: int) -> str:
    text = value if isinstance(value, str) else ""
    return text.replace("\x00", "").strip()[:limit]


def _free_username(claims: Mapping[str, Any], subject: str) -> str:
    candidates = [_clean(claims.get("preferred_username"), limit=140), _clean(claims.get("email"), limit=140)]
    base = next((name for name in candidates if name and USERNAME.fullmatch(name)), "")
    base = base or "sso-" + hashlib.sha256(subject.encode()).hexdigest()[:12]
    name, number = base, 1
    while User.objects.filter(username__iexact=name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def _user_to_link(claims: Mapping[str, Any], issuer: str) -> User | None:
    """An existing csm user with the same verified address, not yet linked to this provider.

    Superusers are never linked by address: they keep their own password as the way in.
    """
    email = _clean(claims.get("email"), limit=254)
    if not email or claims.get("email_verified") is not True:
        return None
    users = list(
        User.objects.filter(email__iexact=email, is_superuser=False).exclude(sso_identities__issuer=issuer)[:2]
    )
    return users[0] if len(users) == 1 else None


def _set_role(user: User, role: str) -> None:
    others = Group.objects.filter(name__in=roles.ROLES).exclude(name=role)
    user.groups.remove(*others)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if hasattr(user, "_csm_groups"):
        del user._csm_groups


@transaction.atomic
def sign_in_with_sso(*, issuer: str, claims: Mapping[str, Any], now: datetime) -> User:
    """The csm user of a person the identity provider signed in, created on first sign-in.

    Names, address and role are set from the claims every time; the role is the one
    ``OIDC_ROLE_MAP`` gives the ``OIDC_ROLE_CLAIM`` values. Raises ``ValidationError`` (field
    errors) when the claims give no role or no subject, or the csm user is deactivated.
    """
    subject = _clean(claims.get("sub"), limit=255)
    if not subject:
        raise ValidationError({"sub": "The identity provider sent no subject (sub) for this person."})
    claim = settings.OIDC_ROLE_CLAIM
    role = role_from_claims(claims, claim=claim, mapping=settings.OIDC_ROLE_MAP)
    if role is None:
        raise ValidationError(
            {
                "role": f"Your identity provider gave you no csm role: its “{claim}” claim has none of the "
                "values csm maps to a role. Ask your administrator to give you access to csm."
            }
        )
    identity = SSOIdentity.objects.select_for_update().filter(issuer=issuer, subject=subject).first()
    if identity is not None:
        user = identity.user
    else:
        user = _user_to_link(claims, issuer) or User(username=_free_username(claims, subject))
        if user.pk is None:
            user.set_unusable_password()
            user.save()
        identity = SSOIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    if not user.is_active:
        raise ValidationError({"user": "Your csm user is deactivated. Ask your administrator."})
    user.first_name = _clean(claims.get("given_name"), limit=150) or user.first_name
    user.last_name = _clean(claims.get("family_name"), limit=150) or user.last_name
    user.email = _clean(claims.get("email"), limit=254) or user.email
    user.is_staff = role == roles.ADMIN or user.is_superuser
    user.save(update_fields=["first_name", "last_name", "email", "is_staff"])
    _set_role(user, role)
    identity.last_sign_in_at = now
    identity.save(update_fields=["last_sign_in_at"])
    return user


# --- The authentication backend -------------------------------------------------------------


class SSOBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow (state, nonce, PKCE, signed ID token), plus: the
    endpoints from discovery, the ID token's audience and issuer checked, the claims of the ID
    token and userinfo together, and the user made by ``sign_in_with_sso``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend for each password sign-in too: read nothing here.
        self.UserModel = User

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the SSO callback passes a nonce; a password sign-in never reaches the provider.
        if request is None or "nonce" not in kwargs or not enabled():
            return None
        self.endpoints = endpoints()
        self.OIDC_OP_TOKEN_ENDPOINT = self.endpoints.token
        self.OIDC_OP_USER_ENDPOINT = self.endpoints.userinfo
        self.OIDC_OP_JWKS_ENDPOINT = self.endpoints.jwks
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict:
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences: Iterable = [audience] if isinstance(audience, str) else audience or []
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is not meant for this client (aud).")
        if self.endpoints.issuer and str(payload.get("iss", "")).rstrip("/") != self.endpoints.issuer:
            raise SuspiciousOperation("The ID token comes from another issuer (iss).")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        info = super().get_userinfo(access_token, id_token, payload) if self.OIDC_OP_USER_ENDPOINT else {}
        if info.get("sub", payload.get("sub")) != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another person (sub).")
        return {**payload, **info}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        issuer = self.endpoints.issuer or str(payload.get("iss", ""))
        try:
            return sign_in_with_sso(issuer=issuer, claims=claims, now=timezone.now())
        except ValidationError as exc:
            self.request.csm_sso_refusal = exc.messages  # the callback view shows these
            return None

    def get_user(self, user_id: int) -> User | None:
        return ModelBackend.get_user(self, user_id)
