"""The demo book makes the calibration report meaningful: outcomes after the scores, in several bands."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account, HealthScore
from health import calibration
from renewals.models import RevenueEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_the_demo_seed_gives_the_calibration_report_outcomes_in_several_bands() -> None:
    call_command("seed_demo", accounts=200)
    today = timezone.localdate()

    report = {
        h["horizon"]: h for h in calibration.calibration_report(user=User.objects.get(username="carol"), today=today)
    }

    bands_with_outcomes = [cell["band"] for cell in report[90]["bands"] if cell["lost"]]
    assert len(bands_with_outcomes) >= 2, report[90]["bands"]
    assert report[180]["n"] > 0, "the history reaches back past the 180-day horizon"
    assert report[180]["lost"] >= report[90]["lost"] > 0


def test_churned_demo_accounts_were_scored_until_they_left() -> None:
    call_command("seed_demo", accounts=200)
    churned_on = dict(
        RevenueEntry.objects.filter(kind="churn", account__lifecycle_stage=Account.Stage.CHURNED).values_list(
            "account_id", "effective_on"
        )
    )
    scored = HealthScore.objects.filter(account_id__in=churned_on)
    assert scored.exists(), "churners have a history, so the report can see how they looked before"
    assert not any(day >= churned_on[account_id] for account_id, day in scored.values_list("account_id", "day"))
