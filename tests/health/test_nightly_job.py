"""The nightly job: catches up missed days, runs once per day, and the command recalculates on demand."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import HealthScore
from csm.models import JobRun
from health import nightly

from .conftest import DAY

pytestmark = pytest.mark.django_db


def test_the_first_run_scores_today(healthy_account) -> None:
    assert nightly.recalculate_due(today=DAY) == [DAY]
    assert HealthScore.objects.filter(day=DAY).count() == 1


def test_missed_nights_are_caught_up_and_a_second_run_does_nothing(healthy_account) -> None:
    nightly.recalculate_due(today=DAY)
    later = DAY + timedelta(days=3)
    assert nightly.recalculate_due(today=later) == [DAY + timedelta(days=n) for n in (1, 2, 3)]
    assert nightly.recalculate_due(today=later) == []
    assert HealthScore.objects.count() == 4
    assert JobRun.objects.filter(job="recalculate_health", status=JobRun.Status.DONE).count() == 4


def test_catching_up_stops_at_a_week(healthy_account) -> None:
    nightly.recalculate_due(today=DAY)
    assert len(nightly.recalculate_due(today=DAY + timedelta(days=30))) == 7


def test_the_command_recalculates_a_given_day_twice_without_duplicates(healthy_account, capsys) -> None:
    call_command("recalculate_health", day="2026-06-01")
    call_command("recalculate_health", day="2026-06-01", chunk_size=1)
    assert HealthScore.objects.filter(day=date(2026, 6, 1)).count() == 1
    assert "Scored 1 accounts for 2026-06-01" in capsys.readouterr().out


def test_the_command_refuses_a_bad_day() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("recalculate_health", day="01/06/2026")
