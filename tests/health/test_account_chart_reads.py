"""The account page's health charts read what they draw: day, score and band over their window;
only the two scores the breakdown compares are read with their parts. Its statements do not grow
with the length of the history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import HealthScore
from health import explain
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
WEEKS = 26


def _history(account, days: range, today) -> None:
    HealthScore.objects.bulk_create(
        HealthScore(
            account=account,
            day=today - timedelta(days=d),
            score=40 + d % 50,
            band="yellow",
            components={"adoption": {"input": 50.0, "score": 40.0 + d % 50, "base": 20}},
        )
        for d in days
    )


def _reads(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "accounts_healthscore"' in q["sql"]]


def test_the_health_panel_chart_reads_three_columns_and_two_rows_with_parts(alice) -> None:
    today = timezone.localdate()
    account = AccountFactory(owner=alice)
    _history(account, range(0, 400), today)

    with CaptureQueriesContext(connection) as ctx:
        panel = explain.panel_context(account, today=today, weeks=WEEKS)["health"]

    reads = _reads(ctx.captured_queries)
    with_parts = [sql for sql in reads if '"parts"' in sql]
    assert len(with_parts) == 1
    assert "LIMIT 2" in with_parts[0]
    assert len(reads) == 2
    assert panel["chart_json"].count('"day"') == WEEKS * 7
    assert panel["current"].day == today
    assert panel["previous"].day == today - timedelta(days=1)


def test_the_account_page_sends_as_many_statements_for_a_year_of_history_as_for_a_week(alice) -> None:
    today = timezone.localdate()
    short, long = AccountFactory(owner=alice), AccountFactory(owner=alice)
    _history(short, range(0, 7), today)
    _history(long, range(0, 400), today)
    client = Client()
    client.force_login(alice)
    client.get(reverse("front:account-detail", args=[short.pk]))  # warm: the role, the session

    counts = []
    for account in (short, long):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("front:account-detail", args=[account.pk])).status_code == 200
        counts.append(len(ctx.captured_queries))
        assert all('"parts"' not in sql or "LIMIT" in sql for sql in _reads(ctx.captured_queries))

    assert counts[0] == counts[1]
