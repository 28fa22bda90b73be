"""Lifecycle stages that move by rule (docs/domain.md): each move is a StageChange row."""

from datetime import date

from django.contrib.auth.models import User
from django.db import transaction

from .models import Account, StageChange


@transaction.atomic
def move_stage(
    account: Account, *, to: str, on: date, reason: str, by: User | None = None, only_from: tuple = ()
) -> bool:
    """Move ``account`` to stage ``to`` (only from ``only_from`` stages when given); False when it stays."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    current = account.lifecycle_stage
    if current == to or (only_from and current not in only_from):
        return False
    Account.objects.filter(pk=account.pk).update(lifecycle_stage=to)
    StageChange.objects.create(account=account, from_stage=current, to_stage=to, on=on, reason=reason[:200], by=by)
    return True
