"""Playbooks react to other apps' events. Receivers never raise (accounts/signals.py)."""

import logging
from datetime import date

from django.dispatch import receiver
from django.utils import timezone

from accounts.signals import contact_left
from renewals.signals import notice_failed, renewal_overdue, renewal_stage_changed

from . import services
from .models import PlaybookRule, Task

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


def overdue_task_key(renewal_id: int) -> str:
    return f"renewal:overdue:{renewal_id}"


@receiver(renewal_overdue, dispatch_uid="playbooks.renewal_overdue")
def on_renewal_overdue(sender: object, renewal: object, today: date, lapses_on: date, **kwargs: object) -> None:
    """Open the CSM's "renewal overdue" task; errors go through (renewals/signals.py: sent once)."""
    contract = renewal.contract
    services.open_task(
        account=contract.account,
        title=f"Renewal overdue: the contract ended {contract.ends_on:%d %b %Y}",
        due_on=today,
        key=overdue_task_key(renewal.pk),
        assignee=renewal.owner or contract.account.owner,
        description=(
            "The contract ended without a renewal decision. Renew it or mark it lost; with no decision it "
            f"lapses on {lapses_on:%d %b %Y} and its revenue counts as churn."
        ),
        reason="Renewal overdue",
        source=Task.Source.JOB,
    )


@receiver(renewal_stage_changed, dispatch_uid="playbooks.renewal_closed")
def on_renewal_closed(sender: object, renewal: object, new_stage: str = "", **kwargs: object) -> None:
    """A closed renewal (renewed, lost or lapsed) is no longer overdue: its task is done."""
    if new_stage in renewal.OPEN_STAGES:
        return
    try:
        Task.objects.open().filter(account_id=renewal.contract.account_id, key=overdue_task_key(renewal.pk)).update(
            status=Task.Status.CANCELLED
        )
    except Exception:
        log.exception("playbooks: closing the overdue task of renewal %s failed", getattr(renewal, "pk", None))
