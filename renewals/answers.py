"""Answers from a notice's recipient: signed, expiring, single-purpose links in the notice.

Each link's payload is (notice, answer): it changes that one answer of that one notice and
shows nothing but a confirm page, so a forwarded link can do no more. The page is a GET;
the answer is a POST, so mail scanners that follow links answer nothing. Links expire after
the program's ``answer_link_days``.
"""

from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact

from . import delivery, signals
from .models import RenewalAnswer, RenewalNotice
from .unsubscribe import absolute

SALT = "renewals.answer"
DEFAULT_DAYS = 30
Kind = RenewalAnswer.Kind


def token_for(notice: RenewalNotice, kind: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"n": notice.pk, "a": kind})


def answer_urls(notice: RenewalNotice) -> dict[str, str]:
    return {
        f"answer_{kind.value}_url": absolute(reverse("renewals-public:answer", args=[token_for(notice, kind)]))
        for kind in Kind
    }


def link_days(notice: RenewalNotice) -> int:
    program = notice.contract.program
    return program.answer_link_days if program is not None else DEFAULT_DAYS


def open_link(token: str) -> tuple[RenewalNotice, str]:
    """The notice and answer a link stands for; ValidationError when tampered with or expired."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token)
    except signing.BadSignature as exc:
        raise ValidationError("This link is not valid.") from exc
    if not isinstance(payload, dict) or payload.get("a") not in Kind.values:
        raise ValidationError("This link is not valid.")
    notice = (
        RenewalNotice.objects.select_related("contract__program", "contract__account", "contact", "renewal")  # type: ignore[misc]  # no id matches no row
        .filter(pk=payload.get("n"))
        .first()
    )
    if notice is None:
        raise ValidationError("This link is not valid.")
    try:
        signer.unsign_object(token, max_age=timedelta(days=link_days(notice)))
    except signing.SignatureExpired as exc:
        raise ValidationError("This link has expired.") from exc
    return notice, payload["a"]


@transaction.atomic
def record_answer(
    *, notice: RenewalNotice, kind: str, now: datetime, name: str = "", email: str = "", role: str = ""
) -> RenewalAnswer:
    """Record the recipient's answer on the renewal; for a named person, add or propose the contact."""
    if kind == Kind.NOT_RIGHT_PERSON:
        errors = {}
        if not name.strip():
            errors["name"] = "Who should we write to?"
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid email address."
        if role not in RenewalAnswer.Role.values:
            errors["role"] = "Choose their role in the renewal."
        if errors:
            raise ValidationError(errors)
    answer, _ = RenewalAnswer.objects.update_or_create(
        notice=notice,
        kind=kind,
        defaults={
            "renewal_id": notice.renewal_id,
            "named_name": name.strip()[:200],
            "named_email": email.strip().lower(),
            "named_role": role,
            "answered_at": now,
        },
    )
    program = notice.contract.program
    if kind == Kind.NOT_RIGHT_PERSON and answer.new_contact_id is None and program and program.answer_contacts_at_once:
        confirm_named_contact(answer, now=now)
    transaction.on_commit(lambda: signals.renewal_answered.send(sender=RenewalAnswer, answer=answer))
    return answer


@transaction.atomic
def confirm_named_contact(answer: RenewalAnswer, *, now: datetime) -> Contact:
    """Add the person a recipient named (or reuse the account's contact with that address) and plan their notice."""
    answer = RenewalAnswer.objects.select_for_update().select_related("notice__contract").get(pk=answer.pk)
    if answer.kind != Kind.NOT_RIGHT_PERSON:
        raise ValidationError("Only a named person can be confirmed.")
    if answer.new_contact_id:
        return answer.new_contact  # type: ignore[return-value]  # new_contact_id is set
    account_id = answer.notice.contract.account_id
    contact = Contact.objects.filter(account_id=account_id, email__iexact=answer.named_email).first()
    if contact is None:
        contact = Contact.objects.create(account_id=account_id, name=answer.named_name, email=answer.named_email)
    setattr(contact, answer.named_role, True)
    contact.save()
    answer.new_contact = contact
    answer.save(update_fields=["new_contact"])
    today = timezone.localtime(now).date()
    if Contact.objects.filter(pk=contact.pk).renewal_recipients(today=today).exists():
        delivery.plan_notice_to(contact, like=answer.notice, today=today, now=now)
    return contact
