"""What happens to a notice after it leaves: provider delivery events and bad addresses.

Providers report through django-anymail's tracking webhooks (``anymail.signals.tracking``,
received in ``renewals/receivers.py``); each event lands once on the notice it is about, and
a hard bounce or a complaint (or an SMTP permanent refusal of the recipient) takes the
address out of the renewal and plans the notice for the next contact of the same role.
"""

import hashlib
import json
import operator
import re
from datetime import date, datetime
from functools import reduce

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Contact

from . import signals, timing
from .models import NoticeEvent, RenewalNotice

# Events move a notice's delivery forward only: a "delivered" that arrives after the
# bounce, or a "deferred" after "delivered", is recorded but changes nothing.
RANK = {
    "queued": 1,
    "sent": 1,
    "deferred": 2,
    "delivered": 3,
    "autoresponded": 3,
    "opened": 4,
    "clicked": 4,
    "unsubscribed": 5,
    "failed": 6,
    "rejected": 6,
    "bounced": 6,
    "complained": 7,
}
# The address is no good (or its owner asked the mail system to stop us): see docs/domain.md.
BAD_ADDRESS_EVENTS = {"bounced", "rejected", "complained"}
ROLE_FIELDS = ("is_decision_maker", "is_renewal", "is_billing")
_OUR_ID = re.compile(r"^<?renewal-notice-(\d+)@")


def refuses_recipient(error: str) -> bool:
    """A permanent SMTP refusal about the recipient (RCPT, after DATA, bad address), not the sender."""
    return "MAIL FROM" not in error


def normal_message_id(message_id: object) -> str:
    return "" if message_id is None else str(message_id).strip().strip("<>").strip()


def message_id_of(message: EmailMessage) -> str:
    """The id the provider will quote in its events: anymail's, else our Message-ID header."""
    status = getattr(message, "anymail_status", None)
    provider_id = getattr(status, "message_id", None)
    return normal_message_id(provider_id if provider_id is not None else message.extra_headers.get("Message-ID"))


def notice_for_message(message_id: str | None) -> RenewalNotice | None:
    wanted = normal_message_id(message_id)
    if not wanted:
        return None
    notice = RenewalNotice.objects.filter(message_id=wanted).select_related("contact", "contract").first()
    if notice is None and (match := _OUR_ID.match(wanted)):
        # A provider that kept our own Message-ID header, before the row recorded it.
        notice = RenewalNotice.objects.filter(pk=int(match.group(1))).select_related("contact", "contract").first()
    return notice


@transaction.atomic
def record_delivery_event(
    *,
    provider: str,
    event_id: str | None,
    event_type: str,
    message_id: str | None,
    recipient: str,
    occurred_at: datetime | None,
    description: str,
    payload: dict,
    now: datetime,
) -> NoticeEvent | None:
    """Land one provider event on its notice, once; None when it is not ours or already recorded."""
    notice = notice_for_message(message_id)
    if notice is None:
        return None
    if not event_id:
        # Some providers give delivery events no id: the payload itself identifies a repeat.
        event_id = "sha256:" + hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    try:
        with transaction.atomic():
            event = NoticeEvent.objects.create(
                notice=notice,
                provider=provider[:30],
                event_id=str(event_id)[:200],
                event_type=event_type[:30],
                recipient=(recipient or notice.email)[:254],
                occurred_at=occurred_at or now,
                description=(description or "")[:500],
                payload=payload,
            )
    except IntegrityError:
        return None  # a duplicate webhook delivery
    notice = RenewalNotice.objects.select_for_update().select_related("contact", "contract").get(pk=notice.pk)
    if RANK.get(event_type, 0) > RANK.get(notice.delivery, 0):
        notice.delivery = event_type
        notice.save(update_fields=["delivery", "updated_at"])
    if event_type in BAD_ADDRESS_EVENTS:
        reason = f"{provider}: {event_type}" + (f" ({description})" if description else "")
        mark_address_bad(notice, reason=reason, now=now)
    return event


@transaction.atomic
def mark_address_bad(notice: RenewalNotice, *, reason: str, now: datetime) -> RenewalNotice | None:
    """The recipient's address bounced hard, complained or was refused for good.

    Mark the contact's email bad, mark the notice bounced, and plan the same notice for the
    next eligible contact of the same role; return that new notice, if any. Safe to repeat.
    """
    today = timezone.localtime(now).date()
    contact = Contact.objects.select_for_update().get(pk=notice.contact_id)
    first_time = contact.email_bad_at is None
    if first_time:
        contact.email_bad_at, contact.email_bad_reason = now, reason[:300]
        contact.save(update_fields=["email_bad_at", "email_bad_reason"])
    from . import services

    if RenewalNotice.objects.filter(pk=notice.pk, status=RenewalNotice.Status.SENT).exists():
        # The Bounced pill and the notice-bounced playbook rule; the CSM's one task is the
        # "find a working address" one below (contact_email_bad), not also "not delivered".
        services.mark_notice_bounced(notice, error=reason, now=now, address_bad=True)
    fallback = plan_fallback_notice(notice, contact=contact, today=today, now=now)
    if first_time or fallback is not None:
        # Inside this transaction: the CSM's task is written with the bad mark, never lost.
        signals.contact_email_bad.send(
            sender=Contact, contact=contact, notice=notice, reason=reason, fallback=fallback, today=today
        )
    return fallback


def plan_fallback_notice(
    notice: RenewalNotice, *, contact: Contact, today: date, now: datetime
) -> RenewalNotice | None:
    """The notice for the next current contact sharing one of ``contact``'s renewal roles."""
    roles = [field for field in ROLE_FIELDS if getattr(contact, field)]
    if not roles:
        return None
    already = RenewalNotice.objects.filter(contract_id=notice.contract_id, cycle=notice.cycle)
    candidates = (
        Contact.objects.filter(account_id=contact.account_id)
        .renewal_recipients(today=today)
        .filter(reduce(operator.or_, (Q(**{field: True}) for field in roles)))
        .exclude(pk__in=already.values("contact_id"))
        .order_by("-is_primary", "name", "pk")
    )
    taken = set(already.values_list("email", flat=True))
    successor = next((c for c in candidates if c.email.lower() not in taken), None)
    if successor is None:
        return None
    return plan_notice_to(successor, like=notice, today=today, now=now)


def plan_notice_to(contact: Contact, *, like: RenewalNotice, today: date, now: datetime) -> RenewalNotice | None:
    """The same cycle of ``like``'s notice for ``contact``; None if that address already has it.

    Left unpublished: webhooks and answer pages are web requests, which never talk to the
    broker (docs: "pages up while the broker is down"); the sweeper publishes it within minutes.
    """
    fresh = RenewalNotice(
        contract_id=like.contract_id,
        renewal_id=like.renewal_id,
        contact=contact,
        cycle=like.cycle,
        email=contact.email.lower(),
        scheduled_on=today,
    )
    try:
        with transaction.atomic():
            fresh.save()
    except IntegrityError:
        return None  # the unique keys: this address already has this cycle's notice
    # Like a planned notice: into the program's approval queue, or waiting for its send window.
    timing.gate_new_notices([fresh.pk], now=now)
    fresh.refresh_from_db(fields=["status", "not_before"])
    return fresh
