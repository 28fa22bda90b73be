"""Opting out of renewal notices from the notice itself: a signed link and RFC 8058 one-click.

The token names one notice and one purpose; it reveals nothing and does nothing else. It
does not expire: an unsubscribe link must keep working as long as the mail is kept.
"""

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import Contact

from . import signals
from .models import RenewalNotice

SALT = "renewals.unsubscribe"


def token_for(notice: RenewalNotice) -> str:
    # Signer, not TimestampSigner: the same link in the body and the header, on every attempt.
    return signing.Signer(salt=SALT).sign_object({"n": notice.pk, "a": "unsubscribe"})


def notice_for_token(token: str) -> RenewalNotice:
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature as exc:
        raise ValidationError("This unsubscribe link is not valid.") from exc
    if not isinstance(payload, dict) or payload.get("a") != "unsubscribe":
        raise ValidationError("This unsubscribe link is not valid.")
    notice = RenewalNotice.objects.select_related("contact", "contract__account").filter(pk=payload.get("n")).first()  # type: ignore[misc]  # no id matches no row
    if notice is None:
        raise ValidationError("This unsubscribe link is not valid.")
    return notice


def absolute(path: str) -> str:
    return settings.CSM_PUBLIC_URL.rstrip("/") + path


def unsubscribe_url(notice: RenewalNotice) -> str:
    return absolute(reverse("renewals-public:unsubscribe", args=[token_for(notice)]))


def headers_for(notice: RenewalNotice) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: the mail client POSTs List-Unsubscribe=One-Click to the URL."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(notice)}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@transaction.atomic
def opt_out_contact(*, notice: RenewalNotice, source: str, now: datetime) -> Contact:
    """Stop renewal notices to the notice's contact; tell the CSM the renewal reaches fewer people.

    Repeating it (a mail client that posts twice) changes nothing more.
    """
    contact = Contact.objects.select_for_update().get(pk=notice.contact_id)
    if contact.email_opt_out:
        return contact
    contact.email_opt_out, contact.email_opt_out_at, contact.email_opt_out_source = True, now, source[:50]
    contact.save(update_fields=["email_opt_out", "email_opt_out_at", "email_opt_out_source"])
    RenewalNotice.objects.filter(contact=contact, status__in=RenewalNotice.NOT_YET_SENT).update(
        status=RenewalNotice.Status.SKIPPED, last_error="contact unsubscribed", updated_at=now
    )
    transaction.on_commit(
        lambda: signals.contact_opted_out.send(sender=Contact, contact=contact, notice=notice, source=source)
    )
    return contact
