"""The nightly calibration snapshot: for everyone and for each manager, the report added up from the
day's stored counts equals the live statement's, and never reads the score history."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import HealthScore
from csm import roles
from health import calibration, tasks
from health.models import CalibrationCell, CalibrationSnapshot
from tests.factories import AccountFactory, HealthScoreFactory, RevenueEntryFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
KINDS = ("adoption", "engagement", "support")


@pytest.fixture
def dave():
    """A CSM in nobody's team: carol must not see his book."""
    return UserFactory(username="dave", role=roles.CSM)


@pytest.fixture
def book(alice, bob, dave, program) -> None:
    """60 accounts over three owners and nobody, scored 92-100 and 185-190 days ago (some not on the
    window's last day), scores with two decimals (some tied), a third of them lost later."""
    rng = random.Random(7)
    for n in range(60):
        account = AccountFactory(owner=(alice, bob, dave, None)[n % 4], program=program)
        for days_ago in [*rng.sample([92, 93, 96, 100], 2), 185, 190]:
            band = rng.choice(["green", "yellow", "red"])
            components = {
                kind: {"input": 1.0, "score": round(rng.choice([0, 100, rng.uniform(0, 100)]), 2), "base": 20}
                for kind in KINDS
            }
            HealthScoreFactory(
                account=account,
                day=TODAY - timedelta(days=days_ago),
                score={"green": 80, "yellow": 55, "red": 20}[band],
                band=band,
                components=components,
            )
        if rng.random() < 0.33:
            RevenueEntryFactory(
                account=account,
                kind=rng.choice(["churn", "contraction"]),
                amount=Decimal("-100"),
                effective_on=TODAY - timedelta(days=rng.randint(1, 90)),
            )


def _comparable(report: list[dict]) -> list[dict]:
    return [
        {
            "horizon": h["horizon"],
            "bands": [(c["band"], c["n"], c["lost"]) for c in h["bands"]],
            "components": sorted(
                (c["kind"], c["lost_n"], c["kept_n"], *(pytest.approx(c[k]) for k in ("lost_mean", "kept_mean", "auc")))
                for c in h["components"]
            ),
        }
        for h in report
    ]


def _reads_history(queries: CaptureQueriesContext) -> bool:
    return any(HealthScore._meta.db_table in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("viewer", ["admin_user", "rita", "carol"])
def test_the_stored_report_equals_the_live_one_and_reads_no_history(request, book, viewer) -> None:
    user = request.getfixturevalue(viewer)
    live = calibration.compute_calibration_report(user=user, today=TODAY, stored=False)
    assert sum(h["n"] for h in live) > 0
    assert any(h["lost"] for h in live)

    calibration.take_snapshot(today=TODAY, now=NOW)
    with CaptureQueriesContext(connection) as queries:
        stored = calibration.compute_calibration_report(user=user, today=TODAY)

    assert _comparable(stored) == _comparable(live)
    assert not _reads_history(queries)
    assert [h["counted_at"] for h in stored] == [NOW, NOW]
    assert [h["counted_at"] for h in live] == [None, None]


def test_a_manager_sees_only_their_teams_books_in_the_snapshot(book, carol, admin_user) -> None:
    calibration.take_snapshot(today=TODAY, now=NOW)

    everyone = calibration.compute_calibration_report(user=admin_user, today=TODAY)
    team = calibration.compute_calibration_report(user=carol, today=TODAY)

    # alice and bob hold half of the 60 accounts; dave's and the unowned ones are not carol's.
    assert [h["n"] for h in team] == [30, 30]
    assert [h["n"] for h in everyone] == [60, 60]


def test_a_csm_and_a_manager_named_after_the_snapshot_are_computed_live(book, alice, bob, program) -> None:
    calibration.take_snapshot(today=TODAY, now=NOW)
    erin = UserFactory(username="erin", role=roles.MANAGER)
    TeamFactory(name="South", manager=erin).members.add(bob)

    for user, accounts in ((alice, 15), (erin, 15)):
        with CaptureQueriesContext(connection) as queries:
            report = calibration.compute_calibration_report(user=user, today=TODAY)
        assert [h["n"] for h in report] == [accounts, accounts]
        assert _reads_history(queries)


def test_taking_it_twice_replaces_the_day_and_drops_older_days(book, carol) -> None:
    calibration.take_snapshot(today=TODAY - timedelta(days=5), now=NOW)
    first = calibration.take_snapshot(today=TODAY, now=NOW)
    again = calibration.take_snapshot(today=TODAY, now=NOW)

    assert again == first
    assert first["cells"] > 0
    assert first["managers"] == 1
    assert CalibrationCell.objects.filter(day=TODAY).count() == first["cells"]
    assert set(CalibrationCell.objects.values_list("day", flat=True)) == {TODAY}
    assert list(CalibrationSnapshot.objects.values_list("day", "managers")) == [(TODAY, [carol.pk])]


def test_the_daily_task_takes_it_once_a_day(book, carol, time_machine) -> None:
    time_machine.move_to("2026-11-01T12:00:00+00:00")
    assert tasks.take_calibration_snapshot() == calibration.take_snapshot(today=TODAY, now=NOW)
    assert tasks.take_calibration_snapshot() is None  # the day's run is done


def test_the_page_says_when_the_counts_were_taken(client, book, carol, alice, time_machine) -> None:
    time_machine.move_to("2026-11-01T12:00:00+00:00")
    calibration.take_snapshot(today=TODAY, now=NOW)

    client.force_login(carol)
    assert "Counts taken at 04:00 today" in client.get("/health/calibration/").content.decode()
    client.force_login(alice)
    assert "Counted when you opened this page" in client.get("/health/calibration/").content.decode()
