"""Overdue health checks and business reviews open a task, once per due date (playbooks/reviews.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import HealthCheck, Touchpoint
from playbooks import services
from playbooks.models import EntitlementUse, PlaybookRule, Task
from tests.factories import AccountFactory, HealthCheckFactory, ProgramFactory, TouchpointFactory

Trigger = PlaybookRule.Trigger
pytestmark = pytest.mark.django_db


def _at(day) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _old(account, today, days: int = 400) -> None:
    type(account).objects.filter(pk=account.pk).update(created_at=_at(today - timedelta(days=days)))


def test_health_check_past_the_program_cadence_opens_one_task_per_due_date(alice, make_rule, today) -> None:
    rule = make_rule(Trigger.HEALTH_CHECK_OVERDUE)
    monthly = ProgramFactory(name="Premier", health_check_cadence_days=30)
    yearly = ProgramFactory(name="Basic", health_check_cadence_days=365)
    late = AccountFactory(name="Late", owner=alice, program=monthly)
    on_time = AccountFactory(name="On time", owner=alice, program=yearly)
    for account in (late, on_time):
        _old(account, today)
        HealthCheckFactory(account=account, held_on=today - timedelta(days=45))

    assert services.evaluate_playbook_rules(today=today)["created"][rule.name] == 1
    task = Task.objects.get(rule=rule)
    assert (task.account, task.assignee, task.kind) == (late, alice, Task.Kind.HEALTH_CHECK)
    assert f"last held: {today - timedelta(days=45)}" in task.reason

    # Closed without a new check: the same due date never opens a second task, even after the
    # rule's re-trigger delay.
    services.complete_task(task, by=alice, now=_at(today), outcome="Called, check booked")
    later = today + timedelta(days=rule.retrigger_delay_days + 5)
    assert services.evaluate_playbook_rules(today=later)["created"][rule.name] == 0

    # A check held moves the due date; once that one passes, a new task opens.
    HealthCheckFactory(account=late, held_on=later)
    assert services.evaluate_playbook_rules(today=later + timedelta(days=10))["created"][rule.name] == 0
    assert services.evaluate_playbook_rules(today=later + timedelta(days=31))["created"][rule.name] == 1
    assert Task.objects.filter(rule=rule, status=Task.Status.OPEN).get().account == late


def test_an_account_never_checked_is_due_a_cadence_after_it_was_created(alice, make_rule, today) -> None:
    rule = make_rule(Trigger.HEALTH_CHECK_OVERDUE)
    program = ProgramFactory(name="Premier", health_check_cadence_days=30)
    new = AccountFactory(name="New", owner=alice, program=program)
    _old(new, today, days=20)
    assert services.evaluate_playbook_rules(today=today)["created"][rule.name] == 0
    assert services.evaluate_playbook_rules(today=today + timedelta(days=11))["created"][rule.name] == 1
    assert "last held: never" in Task.objects.get(rule=rule).reason


def test_business_review_follows_the_entitlement_and_any_way_it_was_logged(alice, make_rule, today) -> None:
    rule = make_rule(Trigger.BUSINESS_REVIEW_OVERDUE)
    quarterly = ProgramFactory(name="Premier", business_reviews_per_year=4)  # every 91 days
    none = ProgramFactory(name="Basic", business_reviews_per_year=0)
    by_touchpoint = AccountFactory(name="Touchpoint", owner=alice, program=quarterly)
    by_check = AccountFactory(name="Check", owner=alice, program=quarterly)
    by_use = AccountFactory(name="Use", owner=alice, program=quarterly)
    overdue = AccountFactory(name="Overdue", owner=alice, program=quarterly)
    not_entitled = AccountFactory(name="Not entitled", owner=alice, program=none)
    for account in (by_touchpoint, by_check, by_use, overdue, not_entitled):
        _old(account, today)
    recent = today - timedelta(days=60)
    TouchpointFactory(account=by_touchpoint, kind=Touchpoint.Kind.BUSINESS_REVIEW, occurred_at=_at(recent))
    HealthCheckFactory(account=by_check, kind=HealthCheck.Kind.BUSINESS_REVIEW, held_on=recent)
    EntitlementUse.objects.create(
        account=by_use, kind=EntitlementUse.Kind.BUSINESS_REVIEW, quantity=Decimal(1), used_on=recent
    )
    # A call or a plain health check is not a business review.
    TouchpointFactory(account=overdue, kind=Touchpoint.Kind.CALL, occurred_at=_at(recent))
    HealthCheckFactory(account=overdue, kind=HealthCheck.Kind.HEALTH_CHECK, held_on=recent)

    assert services.evaluate_playbook_rules(today=today)["created"][rule.name] == 1
    task = Task.objects.get(rule=rule)
    assert (task.account, task.kind) == (overdue, Task.Kind.BUSINESS_REVIEW)
    # 31 days on, the three held 60 days ago are past 91 days too: each opens its own task.
    assert services.evaluate_playbook_rules(today=today + timedelta(days=32))["created"][rule.name] == 3
