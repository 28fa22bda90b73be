"""Lifecycle stages that move by rule (docs/domain.md): each move is a StageChange row."""

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from .models import Account, StageChange


def move_stage(
    account: Account, *, to: str, on: date, reason: str, by: User | None = None, only_from: tuple = ()
) -> bool:
    """Move ``account`` to stage ``to`` (only from ``only_from`` stages when given); False when it stays."""
    return bool(move_stages([account.pk], to=to, on=on, reason=reason, by=by, only_from=only_from))


@transaction.atomic
def move_stages(
    account_ids: Iterable[int], *, to: str, on: date, reason: str, by: User | None = None, only_from: tuple = ()
) -> int:
    """``move_stage`` for many accounts in four statements (lock, update, the StageChange rows and
    their audit history); returns how many moved."""
    accounts = Account.objects.select_for_update().filter(pk__in=set(account_ids)).exclude(lifecycle_stage=to)
    if only_from:
        accounts = accounts.filter(lifecycle_stage__in=only_from)
    moving = list(accounts.order_by("pk").values_list("pk", "lifecycle_stage"))
    if not moving:
        return 0
    Account.objects.filter(pk__in=[pk for pk, _ in moving]).update(lifecycle_stage=to)
    bulk_create_with_history(
        [
            StageChange(account_id=pk, from_stage=current, to_stage=to, on=on, reason=reason[:200], by=by)
            for pk, current in moving
        ],
        StageChange,
        batch_size=1000,
        default_user=by,
    )
    return len(moving)
