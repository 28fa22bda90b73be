"""The calibration statement on both databases: an account not scored on the window's latest day
falls back to its own latest score in the window, and component scores are compared to the
hundredth of a point."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from health import calibration
from tests.factories import AccountFactory, HealthScoreFactory, RevenueEntryFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 1)


def _score(account, *, days_ago: int, band: str, adoption: float) -> None:
    HealthScoreFactory(
        account=account,
        day=TODAY - timedelta(days=days_ago),
        score={"green": 80, "red": 20}[band],
        band=band,
        components={"adoption": {"input": 1.0, "score": adoption, "base": 20}},
    )


def _churn(account, *, days_ago: int) -> None:
    RevenueEntryFactory(
        account=account, kind="churn", amount=Decimal("-100"), effective_on=TODAY - timedelta(days=days_ago)
    )


def test_an_account_missing_from_the_latest_day_is_judged_from_its_own_latest_score(alice, program) -> None:
    scored_late, only_early, only_early_lost = (AccountFactory(owner=alice, program=program) for _ in range(3))
    _score(scored_late, days_ago=100, band="red", adoption=10)
    _score(scored_late, days_ago=92, band="green", adoption=90)  # the window's latest day
    _score(only_early, days_ago=100, band="red", adoption=20)
    _score(only_early_lost, days_ago=100, band="red", adoption=30)
    # 5 days ago is within 90 days of day 92 but not of day 100: it must not count for only_early.
    _churn(only_early, days_ago=5)
    _churn(scored_late, days_ago=1)  # 91 days after its snapshot: outside the horizon
    _churn(only_early_lost, days_ago=20)

    report = {h["horizon"]: h for h in calibration.compute_calibration_report(user=alice, today=TODAY)}[90]

    bands = {cell["band"]: (cell["n"], cell["lost"]) for cell in report["bands"]}
    assert bands == {"green": (1, 0), "yellow": (0, 0), "red": (2, 1)}
    adoption = next(c for c in report["components"] if c["kind"] == "adoption")
    assert (adoption["lost_n"], adoption["kept_n"]) == (1, 2)
    assert adoption["lost_mean"] == pytest.approx(30.0)
    assert adoption["kept_mean"] == pytest.approx(55.0)  # 90 (day 92's score, not day 100's 10) and 20
    assert adoption["auc"] == pytest.approx(0.5)  # 90 beats 30, 20 does not


def test_scores_a_hundredth_apart_are_ranked_and_equal_ones_tie(alice, program) -> None:
    lost, kept = [12.34, 50.5, 50.5], [12.35, 12.33, 50.5, 99.99]
    for value, churned in [(v, True) for v in lost] + [(v, False) for v in kept]:
        account = AccountFactory(owner=alice, program=program)
        _score(account, days_ago=95, band="red", adoption=value)
        if churned:
            _churn(account, days_ago=30)

    report = calibration.compute_calibration_report(user=alice, today=TODAY)[0]

    adoption = next(c for c in report["components"] if c["kind"] == "adoption")
    wins = sum(1.0 if k > lo else 0.5 if k == lo else 0.0 for lo in lost for k in kept)
    assert wins == 6.0  # 12.34 loses to three; each 50.5 ties one and loses to one
    assert adoption["auc"] == pytest.approx(wins / (len(lost) * len(kept)))
    assert adoption["lost_mean"] == pytest.approx(sum(lost) / len(lost))
