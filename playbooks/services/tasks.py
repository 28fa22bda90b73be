"""Tasks: open one (idempotent by key), complete, snooze, wake, and close the coverage and
successor tasks a contact change finishes.
"""

from datetime import date, datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import Account, Contact
from renewals.models import Renewal

from .. import signals
from ..models import (
    COVERAGE_TASK_KEYS,
    PlaybookRule,
    PlaybookRun,
    Task,
)


def open_task(
    *,
    account: Account,
    title: str,
    due_on: date,
    key: str = "",
    assignee: User | None = None,
    description: str = "",
    reason: str = "",
    source: str = Task.Source.MANUAL,
) -> tuple[Task, bool]:
    """Open a task unless one with the same ``key`` is already open on the account.

    Returns (task, created). The partial unique index on (account, key) for open tasks
    settles a race between two callers: the loser gets the existing task back.
    """
    if key:
        existing = Task.objects.open().filter(account=account, key=key).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            task = Task.objects.create(
                account=account,
                assignee=assignee if assignee is not None else account.owner,
                title=title,
                description=description,
                reason=reason,
                key=key,
                due_on=due_on,
                source=source,
            )
    except IntegrityError:
        return Task.objects.open().get(account=account, key=key), False
    return task, True


# --- Tasks -------------------------------------------------------------------------------------


@transaction.atomic
def complete_task(task: Task, *, by: User | None, now: datetime, outcome: str = "") -> Task:
    """Mark the task done; its playbook run closes, so the rule may fire again after its delay."""
    if not task.is_open:
        raise ValidationError("This task is already closed.")
    task.status, task.completed_at, task.snoozed_until = Task.Status.DONE, now, None
    task.outcome = outcome.strip()[:300]
    task.save(update_fields=["status", "completed_at", "snoozed_until", "outcome"])
    if task.rule_id:
        PlaybookRun.objects.filter(
            rule_id=task.rule_id, account_id=task.account_id, status=PlaybookRun.Status.OPEN
        ).update(status=PlaybookRun.Status.CLOSED, closed_on=now.date())
    return task


def cancel_open_task(*, account_id: int, key: str, outcome: str, now: datetime) -> int:
    """Cancel the open task with ``key`` on the account (the thing it asked for no longer applies,
    e.g. an overdue renewal that closed); its playbook run closes like a completed task's."""
    return cancel_open_tasks({(account_id, key): outcome}, now=now)


@transaction.atomic
def cancel_open_tasks(outcomes: dict[tuple[int, str], str], *, now: datetime) -> int:
    """``cancel_open_task`` for many (account id, key) pairs, each with its outcome, in a fixed
    number of statements (lock, one update per distinct outcome, the playbook runs)."""
    if not outcomes:
        return 0
    found = (
        Task.objects.open()
        .select_for_update()
        .filter(account_id__in={account_id for account_id, _ in outcomes}, key__in={key for _, key in outcomes})
        .values_list("pk", "account_id", "key", "rule_id")
    )
    by_outcome: dict[str, list[int]] = {}
    runs: set[tuple[int, int]] = set()
    for pk, account_id, key, rule_id in found:
        if (account_id, key) in outcomes:
            by_outcome.setdefault(outcomes[account_id, key].strip()[:300], []).append(pk)
            if rule_id:
                runs.add((rule_id, account_id))
    for outcome, pks in by_outcome.items():
        Task.objects.filter(pk__in=pks).update(
            status=Task.Status.CANCELLED, completed_at=now, snoozed_until=None, outcome=outcome
        )
    if runs:
        condition = Q()
        for rule_id, account_id in runs:
            condition |= Q(rule_id=rule_id, account_id=account_id)
        PlaybookRun.objects.filter(condition, status=PlaybookRun.Status.OPEN).update(
            status=PlaybookRun.Status.CLOSED, closed_on=now.date()
        )
    return sum(len(pks) for pks in by_outcome.values())


def open_tasks(tasks: list[Task]) -> list[Task]:
    """``open_task`` for many unsaved tasks with keys, in three statements: those whose (account,
    key) already has an open task are left out, the rest inserted at once (the partial unique index
    settles a race, as in ``open_task``). Returns the tasks opened; ``tasks_opened`` tells the
    other apps (a bulk insert sends no ``post_save``)."""
    if not tasks:
        return []
    existing = set(
        Task.objects.open()
        .filter(account_id__in={task.account_id for task in tasks}, key__in={task.key for task in tasks})
        .values_list("account_id", "key")
    )
    new = [task for task in tasks if (task.account_id, task.key) not in existing]
    Task.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    if new:
        signals.tasks_opened.send(sender=Task, tasks=new)
    return new


@transaction.atomic
def snooze_task(task: Task, *, until: date, today: date, by: User | None) -> Task:
    """Put the task away until ``until``; it comes back due on that day."""
    if not task.is_open:
        raise ValidationError("Only an open task can be snoozed.")
    if until <= today:
        raise ValidationError({"until": "Snooze until a day after today."})
    task.status, task.snoozed_until, task.due_on = Task.Status.SNOOZED, until, until
    task.save(update_fields=["status", "snoozed_until", "due_on"])
    return task


def wake_snoozed_tasks(*, today: date) -> int:
    return Task.objects.filter(status=Task.Status.SNOOZED, snoozed_until__lte=today).update(
        status=Task.Status.OPEN, snoozed_until=None
    )


@transaction.atomic
def close_finished_contact_tasks(*, account_id: int, today: date, now: datetime, by: User | None) -> int:
    """Close the coverage and successor tasks the account's contacts now satisfy; returns how many.

    "Add a second renewal contact" is done once two people receive renewal notices, "Find who is
    responsible" once one does, "Find the successor" once everyone who left has a successor.
    """
    open_tasks = Task.objects.open().filter(account_id=account_id).select_related("rule")
    recipients = Contact.objects.filter(account_id=account_id).renewal_recipients(today=today).count()
    finished = [
        task
        for task in open_tasks.filter(key__startswith="renewal:")
        if any(task.key.startswith(prefix) and recipients >= needed for prefix, needed in COVERAGE_TASK_KEYS.items())
    ]
    successor_tasks = open_tasks.filter(rule__trigger=PlaybookRule.Trigger.CONTACT_LEFT)
    waiting = Contact.objects.filter(account_id=account_id).awaiting_successor(today=today)
    if successor_tasks.exists() and not waiting.exists():
        finished += list(successor_tasks)
    for task in finished:
        complete_task(task, by=by, now=now)
    if any(task.key.startswith("renewal:") for task in finished):
        # The renewal's recorded coverage follows, so the planner sees it drop again later and
        # opens a new task then (it opens one only on a change: renewals/services/).
        coverage = Renewal.Coverage.OK if recipients >= 2 else Renewal.Coverage.SINGLE_CONTACT
        Renewal.objects.filter(
            contract__account_id=account_id,
            contact_coverage__in=[Renewal.Coverage.SINGLE_CONTACT, Renewal.Coverage.NO_CONTACT],
        ).update(contact_coverage=coverage)
    return len(finished)
