"""Playbooks react to other apps' events. Receivers never raise (accounts/signals.py)."""

import logging
from datetime import date

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from accounts.signals import contact_left, contacts_changed
from renewals.signals import notice_failed

from . import services
from .models import PlaybookRule

log = logging.getLogger(__name__)
Trigger = PlaybookRule.Trigger


@receiver(contact_left, dispatch_uid="playbooks.contact_left")
def on_contact_left(sender: object, contact: object, today: date | None = None, **kwargs: object) -> None:
    try:
        services.evaluate_rules_for_account(
            account_id=contact.account_id, triggers=[Trigger.CONTACT_LEFT], today=today or timezone.localdate()
        )
    except Exception:
        log.exception("playbooks: contact_left for contact %s failed", getattr(contact, "pk", None))


@receiver(contacts_changed, dispatch_uid="playbooks.contacts_changed")
def on_contacts_changed(sender: object, account_id: int, today: date, by: object = None, **kwargs: object) -> None:
    """A contact change may finish a coverage or successor task: close it in the same transaction."""
    try:
        # A savepoint: a failure here rolls back only the closing, never the contact change.
        with transaction.atomic():
            services.close_finished_contact_tasks(account_id=account_id, today=today, now=timezone.now(), by=by)
    except Exception:
        log.exception("playbooks: contacts_changed for account %s failed", account_id)


@receiver(notice_failed, dispatch_uid="playbooks.notice_failed")
def on_notice_failed(sender: object, notice: object, error: str = "", **kwargs: object) -> None:
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
