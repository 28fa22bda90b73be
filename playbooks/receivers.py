"""Playbooks react to other apps' events.

Receivers of after-commit events never raise; receivers of in-transaction events let errors
through (renewals/signals.py)."""

import logging
from datetime import date
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Contact
from accounts.signals import contact_left
from renewals.models import RenewalNotice
from renewals.signals import notice_failed, notice_marked_failed, renewal_coverage_changed

from . import renewal_tasks, services
from .models import PlaybookRule

log = logging.getLogger(__name__)
Trigger = PlaybookRule.Trigger


@receiver(contact_left, dispatch_uid="playbooks.contact_left")
def on_contact_left(sender: object, contact: Contact, today: date | None = None, **kwargs: Any) -> None:
    try:
        services.evaluate_rules_for_account(
            account_id=contact.account_id, triggers=[Trigger.CONTACT_LEFT], today=today or timezone.localdate()
        )
    except Exception:
        log.exception("playbooks: contact_left for contact %s failed", getattr(contact, "pk", None))


@receiver(notice_failed, dispatch_uid="playbooks.notice_failed")
def on_notice_failed(sender: object, notice: RenewalNotice, error: str = "", **kwargs: Any) -> None:
    try:
        contact = getattr(notice, "contact", None)
        who = f" to {contact}" if contact is not None else ""
        services.fire_rules_for_account(
            account_id=notice.contract.account_id,
            trigger=Trigger.NOTICE_BOUNCED,
            today=timezone.localdate(),
            reason=f"Renewal notice{who} failed: {error}"[:300],
        )
    except Exception:
        log.exception("playbooks: notice_failed for notice %s failed", getattr(notice, "pk", None))


@receiver(notice_marked_failed, dispatch_uid="playbooks.notice_marked_failed")
def on_notice_marked_failed(sender: object, notice: RenewalNotice, error: str, today: date, **kwargs: Any) -> None:
    renewal_tasks.open_notice_failed_task(notice, error=error, today=today)


@receiver(renewal_coverage_changed, dispatch_uid="playbooks.renewal_coverage_changed")
def on_renewal_coverage_changed(sender: object, changed: list, today: date, **kwargs: Any) -> int:
    return renewal_tasks.open_coverage_tasks(changed, today=today)
