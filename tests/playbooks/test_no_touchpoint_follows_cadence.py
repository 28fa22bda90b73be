"""A "no touchpoint" rule with N = 0 uses each program's touch cadence, as Today does."""

from datetime import UTC, datetime, timedelta

import pytest

from playbooks import services
from playbooks.models import PlaybookRule, Task
from tests.factories import AccountFactory, ProgramFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def _at(day) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def test_twenty_silent_days_break_a_14_day_cadence_but_not_a_60_day_one(alice, make_rule, today) -> None:
    rule = make_rule(PlaybookRule.Trigger.NO_TOUCHPOINT, 0)
    tight = AccountFactory(name="Tight", owner=alice, program=ProgramFactory(name="Premier", touch_cadence_days=14))
    loose = AccountFactory(name="Loose", owner=alice, program=ProgramFactory(name="Basic", touch_cadence_days=60))
    for account in (tight, loose):
        type(account).objects.filter(pk=account.pk).update(created_at=_at(today - timedelta(days=400)))
        TouchpointFactory(account=account, occurred_at=_at(today - timedelta(days=20)))
    result = services.evaluate_playbook_rules(today=today)
    assert result["created"][rule.name] == 1
    task = Task.objects.get(rule=rule)
    assert task.account == tight
    assert "No touchpoint within the cadence" in task.reason
