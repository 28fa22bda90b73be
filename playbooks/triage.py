"""Triage of tasks by hand: create one, filter a list, and close, snooze or reassign many at once.

The single-task writes (``complete_task``, ``snooze_task``) stay in services; the bulk
versions here call them per task, so a bulk close closes playbook runs exactly as one does.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account
from csm import roles

from . import services
from .models import Task, TaskQuerySet

MAX_DUE_AHEAD_DAYS = 366 * 2


@transaction.atomic
def create_task(
    *,
    account: Account,
    title: str,
    due_on: date,
    today: date,
    by: User,
    kind: str = Task.Kind.FOLLOW_UP,
    priority: int = Task.Priority.NORMAL,
    description: str = "",
    assignee: User | None = None,
) -> Task:
    """A task a person writes down for an account; assigned to its CSM unless said otherwise."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Say what needs doing."
    if due_on < today - timedelta(days=1):
        errors["due_on"] = "A new task cannot be due in the past."
    elif due_on > today + timedelta(days=MAX_DUE_AHEAD_DAYS):
        errors["due_on"] = "Due dates more than two years ahead are not tasks, they are plans."
    if kind not in Task.Kind.values:
        errors["kind"] = "Pick a type."
    if priority not in Task.Priority.values:
        errors["priority"] = "Pick a priority."
    if assignee is not None and not assignee.is_active:
        errors["assignee"] = "This person can no longer take tasks."
    if errors:
        raise ValidationError(errors)
    return Task.objects.create(
        account=account,
        assignee=assignee if assignee is not None else (account.owner or by),
        title=title.strip(),
        description=description,
        due_on=due_on,
        kind=kind,
        priority=priority,
        source=Task.Source.MANUAL,
        created_by=by,
    )


@dataclass(frozen=True)
class TaskFilter:
    kind: str = ""
    rule_id: int | None = None
    account_id: int | None = None
    assignee_id: int | None = None
    due: str = ""  # "overdue", "today", "week" or "" for any

    def apply(self, tasks: TaskQuerySet, *, today: date) -> TaskQuerySet:
        if self.kind:
            tasks = tasks.filter(kind=self.kind)
        if self.rule_id:
            tasks = tasks.filter(rule_id=self.rule_id)
        if self.account_id:
            tasks = tasks.filter(account_id=self.account_id)
        if self.assignee_id:
            tasks = tasks.filter(assignee_id=self.assignee_id)
        if self.due == "overdue":
            tasks = tasks.filter(due_on__lt=today)
        elif self.due == "today":
            tasks = tasks.filter(due_on=today)
        elif self.due == "week":
            tasks = tasks.filter(due_on__lte=today + timedelta(days=7))
        return tasks


def _open_selected(tasks: TaskQuerySet, ids: list[int]) -> list[Task]:
    if not ids:
        raise ValidationError("Tick at least one task.")
    return list(tasks.open().filter(pk__in=ids).select_for_update().order_by("pk"))


@transaction.atomic
def close_tasks(tasks: TaskQuerySet, *, ids: list[int], by: User, now: datetime, outcome: str = "") -> int:
    """Mark the chosen open tasks done (``tasks`` is what the user may see); returns how many."""
    chosen = _open_selected(tasks, ids)
    for task in chosen:
        services.complete_task(task, by=by, now=now, outcome=outcome)
    return len(chosen)


@transaction.atomic
def snooze_tasks(tasks: TaskQuerySet, *, ids: list[int], until: date, today: date, by: User) -> int:
    chosen = _open_selected(tasks, ids)
    for task in chosen:
        services.snooze_task(task, until=until, today=today, by=by)
    return len(chosen)


@transaction.atomic
def reassign_tasks(tasks: TaskQuerySet, *, ids: list[int], assignee: User, by: User) -> int:
    """Hand the chosen open tasks to another person who works accounts (not a read-only user)."""
    if not assignee.is_active or not roles.can_write(assignee):
        raise ValidationError({"assignee": "Tasks go to someone who can act on them."})
    chosen = _open_selected(tasks, ids)
    moved = [task for task in chosen if task.assignee_id != assignee.pk]
    for task in moved:
        task.assignee = assignee
        # save() rather than update(): the notifications app hears of the new assignee.
        task.save(update_fields=["assignee"])
    return len(moved)
