"""Health history by month: partitions made ahead by the nightly job, dropped past retention,
compacted once thinned. On SQLite the table is plain and the same outcomes come from the
retention job's bounded DELETEs and UPDATEs, so every test runs on both databases."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from accounts.models import HealthScore
from health import partitions
from health.nightly import recalculate_health
from retention import services
from tests.factories import AccountFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 10)
NOW = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)


def _score(account, day: date, parts: list | None = None) -> None:
    HealthScore.objects.create(account=account, day=day, score=70, band="green", parts=parts or [1.0])


def _partition_of(account, day: date) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM accounts_healthscore WHERE account_id = %s AND day = %s",
            [account.pk, day],
        )
        return cursor.fetchone()[0]


def test_the_nightly_run_creates_its_month_and_the_next_before_writing(acme) -> None:
    day = date(2027, 3, 31)
    UsageSnapshotFactory(account=acme, date=day)
    assert recalculate_health(day=day, notify=False) == 1
    assert HealthScore.objects.filter(account=acme, day=day).exists()
    if partitions.partitioned():
        names = [month.name for month in partitions.months()]
        assert {"accounts_healthscore_p202703", "accounts_healthscore_p202704"} <= set(names)
        assert _partition_of(acme, day) == "accounts_healthscore_p202703"
    else:
        assert partitions.months() == []


def test_a_day_written_before_its_month_existed_moves_into_it(acme) -> None:
    day = date(2031, 1, 15)
    _score(acme, day, parts=[2.0, None])
    if partitions.partitioned():
        assert _partition_of(acme, day) == "accounts_healthscore_default"
    created = partitions.ensure_months(day, ahead=0)
    assert HealthScore.objects.get(account=acme, day=day).parts == [2.0, None]
    if partitions.partitioned():
        assert created == ["accounts_healthscore_p203101"]
        assert _partition_of(acme, day) == "accounts_healthscore_p203101"
        assert partitions.ensure_months(day, ahead=0) == []
    else:
        assert created == []


def test_months_past_retention_are_dropped_and_the_rest_stays(acme, settings) -> None:
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "health_scores": 60}
    keep_from = TODAY - timedelta(days=60)  # 2026-04-11
    days = [date(2026, 2, 20), date(2026, 3, 31), date(2026, 4, 10), keep_from, date(2026, 6, 1)]
    for day in days:
        partitions.ensure_months(day, ahead=0)
        _score(acme, day)

    out = services.prune(today=TODAY, now=NOW)

    assert sorted(HealthScore.objects.values_list("day", flat=True)) == [keep_from, date(2026, 6, 1)]
    if partitions.partitioned():
        names = {month.name for month in partitions.months()}
        assert out["health_months_dropped"] == 2
        assert not {"accounts_healthscore_p202602", "accounts_healthscore_p202603"} & names
        # The month holding the window's first day stays; its older day went by DELETE.
        assert "accounts_healthscore_p202604" in names
        assert out["health_scores"] == 1
    else:
        assert out["health_months_dropped"] == 0
        assert out["health_scores"] == 3


def test_a_thinned_month_is_compacted_once_and_keeps_its_rows(settings) -> None:
    settings.HEALTH_PARTS_DAYS, settings.HEALTH_PARTS_CATCHUP_DAYS = 14, 60
    accounts = [AccountFactory(name=f"A{i}") for i in range(3)]
    old_days = [date(2026, 4, 1) + timedelta(days=i) for i in range(0, 30, 7)]
    for day in old_days:
        partitions.ensure_months(day, ahead=0)
        for account in accounts:
            _score(account, day, parts=[1.0, 2.0])
    recent = TODAY - timedelta(days=3)
    partitions.ensure_months(recent, ahead=0)
    _score(accounts[0], recent, parts=[3.0])

    thinned = services.thin_health_parts(today=TODAY, batch=1000, max_batches=100)

    assert thinned == len(old_days) * len(accounts)
    assert HealthScore.objects.filter(day__in=old_days, parts=None).count() == thinned
    assert HealthScore.objects.get(day=recent).parts == [3.0]
    if partitions.partitioned():
        compacted = {month.name for month in partitions.months() if month.compacted}
        assert compacted == {"accounts_healthscore_p202604"}
        assert services.thin_health_parts(today=TODAY, batch=1000, max_batches=100) == 0


def test_the_previous_day_is_found_after_a_gap_of_over_a_month(acme) -> None:
    _score(acme, date(2026, 1, 5))
    assert HealthScore.objects.last_day(before=date(2026, 3, 1)) == date(2026, 1, 5)
    _score(acme, date(2026, 2, 27))
    assert HealthScore.objects.last_day(before=date(2026, 3, 1)) == date(2026, 2, 27)
    assert HealthScore.objects.last_day(before=date(2026, 2, 27)) == date(2026, 1, 5)
    assert HealthScore.objects.last_day(before=date(2026, 2, 27), inclusive=True) == date(2026, 2, 27)
    assert HealthScore.objects.last_day(before=date(2026, 1, 5)) is None
