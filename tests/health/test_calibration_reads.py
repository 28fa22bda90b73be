"""Calibration reads its window, not the history: same statements and result however long it is."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import HealthScore
from health import calibration
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 1)


def _history(accounts, days: range) -> None:
    HealthScore.objects.bulk_create(
        HealthScore(
            account=account,
            day=TODAY - timedelta(days=d),
            score=80 if i % 2 else 20,
            band="green" if i % 2 else "red",
            components={"adoption": {"input": 1.0, "score": 10.0 * (i % 2) + d % 3, "base": 20}},
        )
        for i, account in enumerate(accounts)
        for d in days
    )


def _run(user) -> tuple[list[dict], list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        report = calibration.compute_calibration_report(user=user, today=TODAY)
    return report, [q["sql"] for q in ctx.captured_queries]


def test_history_outside_the_window_changes_neither_the_statements_nor_the_result(alice, program) -> None:
    accounts = [AccountFactory(owner=alice, program=program) for _ in range(4)]
    # Every day calibration can read (90..103 and 180..193 days ago), and nothing else.
    _history(accounts, range(calibration.HORIZONS[0], calibration.HORIZONS[0] + calibration.SNAPSHOT_DAYS))
    _history(accounts, range(calibration.HORIZONS[1], calibration.CALIBRATION_READS_DAYS))
    _run(alice)  # the user's role is looked up once, then kept on the user
    short, short_sql = _run(alice)

    _history(accounts, range(1, calibration.HORIZONS[0]))  # the recent days
    _history(accounts, range(calibration.CALIBRATION_READS_DAYS, 400))  # and a year more behind
    long, long_sql = _run(alice)

    assert long == short
    assert len(long_sql) == len(short_sql)
    assert [h["n"] for h in long] == [4, 4]
    reads = [sql for sql in long_sql if 'FROM "accounts_healthscore"' in sql]
    assert len(reads) == len(calibration.HORIZONS)
    for sql, horizon in zip(reads, calibration.HORIZONS, strict=True):
        as_of = TODAY - timedelta(days=horizon)
        # Bounded by day on both sides: the read cannot reach rows outside the window.
        assert f"\"day\" <= '{as_of.isoformat()}'" in sql or f'"day" <= {as_of.isoformat()}' in sql
        first = as_of - timedelta(days=calibration.SNAPSHOT_DAYS)
        assert f"\"day\" > '{first.isoformat()}'" in sql or f'"day" > {first.isoformat()}' in sql


def test_the_report_is_computed_once_a_day(alice, program) -> None:
    _history([AccountFactory(owner=alice, program=program)], range(90, 95))
    first = calibration.calibration_report(user=alice, today=TODAY)
    with CaptureQueriesContext(connection) as ctx:
        again = calibration.calibration_report(user=alice, today=TODAY)
    assert again == first
    assert not [q for q in ctx.captured_queries if "accounts_healthscore" in q["sql"]]
    HealthScore.objects.all().delete()
    assert calibration.calibration_report(user=alice, today=TODAY + timedelta(days=1))[0]["n"] == 0


def test_the_account_chart_reads_only_its_window_and_columns(acme) -> None:
    from front.account360 import HEALTH_DAYS, health_trend

    _history([acme], range(0, 400))
    with CaptureQueriesContext(connection) as ctx:
        trend = health_trend(acme, today=TODAY)
    read = next(q["sql"] for q in ctx.captured_queries if 'FROM "accounts_healthscore"' in q["sql"])
    assert '"parts"' not in read
    assert len(trend["chart"]) == HEALTH_DAYS
    assert trend["chart"][-1]["day"] == TODAY.isoformat()
