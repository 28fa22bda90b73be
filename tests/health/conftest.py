"""Helpers for health tests: an account's inputs in one call."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, HealthCheck, Touchpoint, UsageSnapshot
from tests.factories import AccountFactory, HealthCheckFactory, TouchpointFactory, UsageSnapshotFactory

DAY = date(2026, 6, 1)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour=hour)))


def give_usage(
    account: Account,
    *,
    day: date = DAY,
    active: int = 20,
    purchased: int = 25,
    advanced: int = 5,
    basic: int | None = None,
    availability: str | None = "99.50",
    cases: int = 1,
    escalations: int = 0,
) -> UsageSnapshot:
    return UsageSnapshotFactory(
        account=account,
        date=day,
        licenses_active=active,
        licenses_purchased=purchased,
        advanced_users=min(advanced, active),
        basic_users=active - min(advanced, active) if basic is None else basic,
        availability_pct=Decimal(availability) if availability is not None else None,
        open_support_cases=cases,
        escalations=escalations,
    )


def give_touchpoints(account: Account, *, day: date = DAY, days_ago: int = 3, positive: int = 2, other: int = 1):
    for i in range(positive):
        TouchpointFactory(account=account, occurred_at=at(day - timedelta(days=days_ago + i)))
    for i in range(other):
        TouchpointFactory(
            account=account, outcome=Touchpoint.Outcome.NEUTRAL, occurred_at=at(day - timedelta(days=days_ago + i))
        )


def give_check(account: Account, *, day: date = DAY, sentiment: int = 4, days_ago: int = 10) -> HealthCheck:
    return HealthCheckFactory(account=account, held_on=day - timedelta(days=days_ago), sentiment=sentiment)


@pytest.fixture
def healthy_account(alice, program) -> Account:
    account = AccountFactory(name="Healthy", owner=alice, program=program)
    give_usage(account)
    give_touchpoints(account)
    give_check(account)
    return account
