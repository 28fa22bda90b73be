"""The explanation: each component's part and what changed since the previous calculation."""

from datetime import timedelta

import pytest

from accounts.models import HealthScore
from health import explain, nightly

from .conftest import DAY, give_usage

pytestmark = pytest.mark.django_db
NEXT = DAY + timedelta(days=1)


def test_a_usage_drop_is_explained_in_points_and_licenses(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    give_usage(healthy_account, day=NEXT, active=4, advanced=1)
    nightly.recalculate_health(day=NEXT)
    before = HealthScore.objects.get(account=healthy_account, day=DAY)
    after = HealthScore.objects.get(account=healthy_account, day=NEXT)

    lines = {line.kind: line for line in explain.explain(after, before)}

    adoption = lines["adoption"]
    expected = round(after.components["adoption"]["contribution"]) - round(
        before.components["adoption"]["contribution"]
    )
    assert adoption.delta == expected < 0
    assert adoption.change == f"Adoption \u2212{-expected}: 4 of 25 licenses active (was 20 of 25 licenses active)"
    assert lines["availability"].change == ""


def test_missing_inputs_are_listed_as_missing_and_last(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    lines = explain.explain(HealthScore.objects.get(account=healthy_account))
    missing = [line for line in lines if line.missing]
    assert [line.kind for line in missing] == ["onboarding", "success_plan", "commercial"]
    assert missing[0].text == "no onboarding checklist"
    assert lines[-len(missing) :] == missing
    assert all(line.delta is None for line in lines)


def test_the_panel_context_has_the_score_trend_and_breakdown(healthy_account) -> None:
    for offset in (14, 7, 0):
        nightly.recalculate_health(day=DAY - timedelta(days=offset))
    context = explain.panel_context(healthy_account, today=DAY)["health"]
    assert context["current"].day == DAY
    assert context["previous"].day == DAY - timedelta(days=7)
    # 18 May had no inputs at all, so no score: the chart starts on 25 May.
    assert '"points": [{"day": "2026-05-25"' in context["chart_json"]
    assert len(context["lines"]) == 10
    assert context["last_check"].held_on == DAY - timedelta(days=10)
    assert not context["check_overdue"]
