"""Playbooks react to other apps' events.

Receivers of after-commit events never raise; receivers of in-transaction events let errors
through (renewals/signals.py)."""

import logging
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Contact
from accounts.signals import contact_left, contacts_changed
from renewals.models import Renewal, RenewalAnswer, RenewalNotice
from renewals.signals import (
    contact_email_bad,
    contact_opted_out,
    notice_failed,
    notice_marked_failed,
    renewal_answered,
    renewal_coverage_changed,
    renewal_stage_changed,
    renewal_stages_changed,
    renewals_overdue,
)

from . import renewal_tasks, services
from .models import PlaybookRule, Task

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


@receiver(contacts_changed, dispatch_uid="playbooks.contacts_changed")
def on_contacts_changed(sender: object, account_id: int, today: date, by: User | None = None, **kwargs: Any) -> None:
    """A contact change may finish a coverage or successor task: close it in the same transaction."""
    try:
        # A savepoint: a failure here rolls back only the closing, never the contact change.
        with transaction.atomic():
            services.close_finished_contact_tasks(account_id=account_id, today=today, now=timezone.now(), by=by)
    except Exception:
        log.exception("playbooks: contacts_changed for account %s failed", account_id)


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
def on_notice_marked_failed(
    sender: object, notice: RenewalNotice, error: str, today: date, address_bad: bool = False, **kwargs: Any
) -> None:
    # A refused address gets one task, "find a working address or successor" (on_contact_email_bad).
    if not address_bad:
        renewal_tasks.open_notice_failed_task(notice, error=error, today=today)


@receiver(renewal_coverage_changed, dispatch_uid="playbooks.renewal_coverage_changed")
def on_renewal_coverage_changed(sender: object, changed: list, today: date, **kwargs: Any) -> int:
    return renewal_tasks.open_coverage_tasks(changed, today=today)


def _renewal_owner(notice: RenewalNotice) -> User | None:
    return getattr(notice.renewal, "owner", None) or notice.contract.account.owner


@receiver(contact_email_bad, dispatch_uid="playbooks.contact_email_bad")
def on_contact_email_bad(
    sender: object,
    contact: Contact,
    notice: RenewalNotice,
    reason: str = "",
    fallback: RenewalNotice | None = None,
    today: date | None = None,
    **kwargs: Any,
) -> None:
    """The CSM finds a working address or the successor (the fallback, if any, is already planned).

    The one task a refused address opens; written in the transaction that marks it bad.
    """
    then = f" The notice now goes to {fallback.email}." if fallback is not None else ""
    services.open_task(
        account=contact.account,
        title=f"Find a working address or successor for {contact.name}",
        due_on=today or timezone.localdate(),
        key=f"renewal:bad-address:{contact.pk}",
        assignee=_renewal_owner(notice),
        description=f"The renewal notice to {contact.email} did not arrive: {reason}.{then}"[:2000],
        reason="Renewal notice bounced",
    )


@receiver(contact_opted_out, dispatch_uid="playbooks.contact_opted_out")
def on_contact_opted_out(
    sender: object, contact: Contact, notice: RenewalNotice | None = None, source: str = "", **kwargs: Any
) -> None:
    """The renewal now reaches fewer people: the CSM checks it still reaches enough."""
    try:
        services.open_task(
            account=contact.account,
            title=f"{contact.name} unsubscribed from renewal notices",
            due_on=timezone.localdate(),
            key=f"renewal:opted-out:{contact.pk}",
            assignee=_renewal_owner(notice) if notice is not None else contact.account.owner,
            description=f"{contact.email} opted out ({source}); the renewal notices now reach fewer recipients.",
            reason="Renewal contact opted out",
        )
    except Exception:
        log.exception("playbooks: contact_opted_out for contact %s failed", getattr(contact, "pk", None))


@receiver(renewal_answered, dispatch_uid="playbooks.renewal_answered")
def on_renewal_answered(sender: object, answer: RenewalAnswer, **kwargs: Any) -> None:
    """ "Let's talk" asks the CSM to call; a named person waits for the CSM to confirm them."""
    try:
        notice = answer.notice
        who = f"{notice.contact.name} <{notice.email}>"
        if answer.kind == "talk":
            title, key, description = (
                f"Call {notice.contact.name} about the renewal",
                f"renewal:talk:{notice.pk}",
                f"{who} answered the renewal notice: “Let's talk”.",
            )
        elif answer.kind == "wrong_person" and answer.new_contact_id is None:
            title, key, description = (
                f"Confirm {answer.named_name} as renewal contact",
                f"renewal:named:{answer.pk}",
                f"{who} is not the right person and named {answer.named_name} <{answer.named_email}> "
                f"({answer.get_named_role_display()}). Confirm on the renewal page to send them the notice.",
            )
        else:
            return
        services.open_task(
            account=notice.contract.account,
            title=title,
            due_on=timezone.localdate(),
            key=key,
            assignee=_renewal_owner(notice),
            description=description,
            reason="Renewal notice answered",
        )
    except Exception:
        log.exception("playbooks: renewal_answered for answer %s failed", getattr(answer, "pk", None))


def overdue_task_key(renewal_id: int) -> str:
    return f"renewal:overdue:{renewal_id}"


@receiver(renewals_overdue, dispatch_uid="playbooks.renewals_overdue")
def on_renewals_overdue(sender: object, overdue: list[tuple[Renewal, date]], today: date, **kwargs: Any) -> None:
    """Open the CSM's "renewal overdue" tasks; errors go through (renewals/signals.py: sent once)."""
    services.open_tasks(
        [
            Task(
                account_id=renewal.contract.account_id,
                title=f"Renewal overdue: the contract ended {renewal.contract.ends_on:%d %b %Y}",
                due_on=today,
                key=overdue_task_key(renewal.pk),
                assignee_id=renewal.owner_id or renewal.contract.account.owner_id,
                description=(
                    "The contract ended without a renewal decision. Renew it or mark it lost; with no decision it "
                    f"lapses on {lapses_on:%d %b %Y} and its revenue counts as churn."
                ),
                reason="Renewal overdue",
                source=Task.Source.JOB,
            )
            for renewal, lapses_on in overdue
        ]
    )


@receiver(renewal_stage_changed, dispatch_uid="playbooks.renewal_closed")
def on_renewal_closed(
    sender: object, renewal: Renewal, old_stage: str = "", new_stage: str = "", **kwargs: Any
) -> None:
    on_renewals_closed(sender, changes=[(renewal, old_stage, new_stage)])


@receiver(renewal_stages_changed, dispatch_uid="playbooks.renewals_closed")
def on_renewals_closed(sender: object, changes: list[tuple[Renewal, str, str]], **kwargs: Any) -> None:
    """A closed renewal (renewed, lost or lapsed) is no longer overdue: its task is done."""
    outcomes = {
        (renewal.contract.account_id, overdue_task_key(renewal.pk)): f"Renewal closed: {new_stage}"
        for renewal, _, new_stage in changes
        if new_stage not in Renewal.OPEN_STAGES
    }
    if not outcomes:
        return
    try:
        services.cancel_open_tasks(outcomes, now=timezone.now())
    except Exception:
        log.exception("playbooks: closing the overdue tasks of %d renewals failed", len(outcomes))
