from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from accounts.models import Account

from .models import Task


def open_task(
    *,
    account: Account,
    title: str,
    due_on: date,
    key: str = "",
    assignee: User | None = None,
    description: str = "",
    reason: str = "",
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
            )
    except IntegrityError:
        return Task.objects.open().get(account=account, key=key), False
    return task, True
