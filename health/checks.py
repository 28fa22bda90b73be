"""Health checks and account reviews: recording one, and when the next is due."""

from datetime import date, timedelta

from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import (
    Account,
    HealthCheck,
)
from csm import roles

from .scoring import DEFAULT_CHECK_CADENCE_DAYS


@transaction.atomic
def record_health_check(
    *, account: Account, by: roles.User | None, held_on: date, sentiment: int, kind: str, notes: str = "", today: date
) -> HealthCheck:
    """Record a CSM's health check or account review; tonight's score reads its sentiment."""
    if held_on > today:
        raise ValidationError({"held_on": "A health check cannot be recorded ahead of the day it is held."})
    if sentiment not in HealthCheck.Sentiment.values:
        raise ValidationError({"sentiment": "Choose a sentiment from 1 (very negative) to 5 (very positive)."})
    if kind not in HealthCheck.Kind.values:
        raise ValidationError({"kind": "Choose a kind of check."})
    return HealthCheck.objects.create(
        account=account,
        by=by if isinstance(by, AuthUser) else None,
        held_on=held_on,
        sentiment=sentiment,
        kind=kind,
        notes=notes.strip(),
    )


def check_due_on(account: Account) -> date | None:
    """When the next health check is due under the account's program cadence (None if never held)."""
    last = account.health_checks.order_by("-held_on").values_list("held_on", flat=True).first()
    if last is None:
        return None
    cadence = account.program.health_check_cadence_days if account.program else DEFAULT_CHECK_CADENCE_DAYS
    return last + timedelta(days=cadence)
