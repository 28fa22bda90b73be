"""Calibration: per band, who churned or contracted within the horizon after their score."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from health import calibration
from renewals.models import Renewal
from tests.factories import AccountFactory, ContractFactory, HealthScoreFactory, RenewalFactory, RevenueEntryFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 1)


def _scored(owner, program, *, band: str, adoption_score: float, days_ago: int = 100):
    account = AccountFactory(owner=owner, program=program)
    HealthScoreFactory(
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
    RevenueEntryFactory(account=reds[0], kind="churn", amount=Decimal("-100"), effective_on=TODAY - timedelta(days=70))
    contract = ContractFactory(account=greens[0], ends_on=TODAY - timedelta(days=40))
    RenewalFactory(contract=contract, stage=Renewal.Stage.DOWNGRADED, closed_on=TODAY - timedelta(days=40))
    # ...and a loss after the 90-day window does not count for it.
    RevenueEntryFactory(account=greens[1], kind="churn", amount=Decimal("-100"), effective_on=TODAY - timedelta(days=5))

    report = {h["horizon"]: h for h in calibration.calibration_report(user=alice, today=TODAY)}[90]

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
    report = calibration.calibration_report(user=alice, today=TODAY)[0]
    assert report["n"] == 1


def test_scores_too_recent_for_the_window_are_left_out(alice, program) -> None:
    _scored(alice, program, band="green", adoption_score=90, days_ago=30)
    assert [h["n"] for h in calibration.calibration_report(user=alice, today=TODAY)] == [0, 0]


def test_separation_is_perfect_when_every_churner_scored_lower() -> None:
    assert calibration._auc([10, 20], [30, 40, 50]) == 1.0
    assert calibration._auc([30, 40], [10, 20]) == 0.0
    assert calibration._auc([10], []) is None


def _pairwise_auc(lost: list[float], kept: list[float]) -> float:
    """The definition, pair by pair: how often a kept account outscored a lost one (ties half)."""
    wins = sum(1.0 if k > lo else 0.5 if k == lo else 0.0 for lo in lost for k in kept)
    return wins / (len(lost) * len(kept))


def test_a_generated_book_gives_per_band_rates_and_separation(alice, program) -> None:
    rng = random.Random(7)
    expected = {band: [0, 0] for band in ("green", "yellow", "red")}
    lost_scores, kept_scores = [], []
    for index in range(60):
        band = ("green", "yellow", "red")[index % 3]
        adoption = {"green": 80, "yellow": 50, "red": 20}[band] + rng.randint(-15, 15)
        account = _scored(alice, program, band=band, adoption_score=adoption, days_ago=95)
        # Red loses more often than yellow, yellow more than green; the first green one always.
        lost = index == 0 or rng.random() < {"green": 0.1, "yellow": 0.3, "red": 0.6}[band]
        if lost:
            RevenueEntryFactory(
                account=account, kind="contraction", amount=Decimal("-50"), effective_on=TODAY - timedelta(days=30)
            )
        expected[band][0] += 1
        expected[band][1] += lost
        (lost_scores if lost else kept_scores).append(adoption)

    report = {h["horizon"]: h for h in calibration.calibration_report(user=alice, today=TODAY)}[90]

    for cell in report["bands"]:
        n, lost = expected[cell["band"]]
        assert (cell["n"], cell["lost"]) == (n, lost)
        assert cell["rate"] == pytest.approx(100.0 * lost / n)
    assert report["lost"] == len(lost_scores)
    adoption = next(c for c in report["components"] if c["kind"] == "adoption")
    assert adoption["auc"] == pytest.approx(_pairwise_auc(lost_scores, kept_scores))
    assert adoption["lost_mean"] == pytest.approx(sum(lost_scores) / len(lost_scores))
    green, red = (next(c["rate"] for c in report["bands"] if c["band"] == b) for b in ("green", "red"))
    assert report["lift"] == pytest.approx(red / green)


def test_an_outcome_before_the_score_does_not_count(alice, program) -> None:
    account = _scored(alice, program, band="red", adoption_score=10, days_ago=100)
    RevenueEntryFactory(account=account, kind="churn", amount=Decimal("-100"), effective_on=TODAY - timedelta(days=101))
    report = calibration.calibration_report(user=alice, today=TODAY)[0]
    assert (report["n"], report["lost"], report["lift"]) == (1, 0, None)


def test_separation_reads_in_words() -> None:
    assert calibration.separation_label(None) == "not enough data"
    assert calibration.separation_label(0.51) == "none"
    assert calibration.separation_label(0.56) == "weak"
    assert calibration.separation_label(0.65) == "moderate"
    assert calibration.separation_label(0.8) == "strong"
    assert calibration.separation_label(0.35) == "moderate, wrong way"
