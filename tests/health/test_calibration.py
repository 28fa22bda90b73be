"""Calibration: per band, who churned or contracted within the horizon after their score."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts import health
from accounts.models import HealthScore
from renewals.models import Renewal, RevenueEntry
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 1)


def _scored(owner, program, *, band: str, adoption_score: float, days_ago: int = 100):
    account = AccountFactory(owner=owner, program=program)
    HealthScore.objects.create(
        account=account,
        day=TODAY - timedelta(days=days_ago),
        score={"green": 80, "yellow": 55, "red": 20}[band],
        band=band,
        components={"adoption": {"input": 1.0, "score": adoption_score, "base": 20, "weight": 100, "contribution": 1}},
    )
    return account


def test_each_band_reports_the_share_that_churned_or_contracted(alice, program) -> None:
    greens = [_scored(alice, program, band="green", adoption_score=90) for _ in range(4)]
    reds = [_scored(alice, program, band="red", adoption_score=10) for _ in range(2)]
    # A red account churns 30 days after its score, a green one contracts within the window...
    RevenueEntry.objects.create(
        account=reds[0], kind="churn", amount=Decimal("-100"), effective_on=TODAY - timedelta(days=70)
    )
    contract = ContractFactory(account=greens[0], ends_on=TODAY - timedelta(days=40))
    Renewal.objects.create(contract=contract, stage=Renewal.Stage.DOWNGRADED, closed_on=TODAY - timedelta(days=40))
    # ...and a loss after the 90-day window does not count for it.
    RevenueEntry.objects.create(
        account=greens[1], kind="churn", amount=Decimal("-100"), effective_on=TODAY - timedelta(days=5)
    )

    report = {h["horizon"]: h for h in health.calibration_report(user=alice, today=TODAY)}[90]

    bands = {cell["band"]: cell for cell in report["bands"]}
    assert (bands["green"]["n"], bands["green"]["lost"], bands["green"]["rate"]) == (4, 1, 25.0)
    assert (bands["red"]["n"], bands["red"]["lost"], bands["red"]["rate"]) == (2, 1, 50.0)
    assert bands["yellow"]["rate"] is None
    adoption = next(c for c in report["components"] if c["kind"] == "adoption")
    assert (adoption["lost_n"], adoption["kept_n"]) == (2, 4)
    assert adoption["lost_mean"] == 50.0
    assert adoption["auc"] == pytest.approx(5 / 8)


def test_a_csm_sees_only_their_own_book(alice, bob, program) -> None:
    _scored(alice, program, band="green", adoption_score=90)
    _scored(bob, program, band="red", adoption_score=10)
    report = health.calibration_report(user=alice, today=TODAY)[0]
    assert report["n"] == 1


def test_scores_too_recent_for_the_window_are_left_out(alice, program) -> None:
    _scored(alice, program, band="green", adoption_score=90, days_ago=30)
    assert [h["n"] for h in health.calibration_report(user=alice, today=TODAY)] == [0, 0]


def test_separation_is_perfect_when_every_churner_scored_lower() -> None:
    assert health._auc([10, 20], [30, 40, 50]) == 1.0
    assert health._auc([30, 40], [10, 20]) == 0.0
    assert health._auc([10], []) is None
