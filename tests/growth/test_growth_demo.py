"""The demo seeds every growth page with real rows: suggestions, opportunities, checkpoint calls, accuracy."""

import pytest
from django.core.management import call_command

from growth.models import Checkpoint, Opportunity, Suggestion
from growth.reports import forecast_accuracy
from renewals.models import RevenueEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_the_demo_has_a_pipeline_checkpoints_and_accuracy_figures() -> None:
    call_command("seed_demo", accounts=80)
    assert Suggestion.objects.filter(status="new").exists()
    assert Suggestion.objects.filter(signal="promoter").exists()  # raised by the demo's NPS answers
    assert set(Opportunity.objects.values_list("stage", flat=True)) == {"open", "won", "lost"}
    for won in Opportunity.objects.filter(stage="won"):
        assert won.revenue_entry.kind == RevenueEntry.Kind.EXPANSION
        assert won.revenue_entry.amount == won.amount
    assert Checkpoint.objects.exclude(csm_call="").filter(renewal__stage__in=["upcoming", "notified"]).exists()
    assert forecast_accuracy(Checkpoint.objects.all())["overall"].csm_calls > 10
