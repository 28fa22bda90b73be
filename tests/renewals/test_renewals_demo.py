from statistics import mean

import pytest
from django.core.management import call_command

from demo.renewals import latest_utilization
from renewals.models import Contract, Renewal, RenewalNotice, RevenueEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_the_demo_has_a_pipeline_closed_renewals_with_reasons_and_revenue_history() -> None:
    call_command("seed_demo", accounts=200)
    assert not Contract.objects.filter(renewal__isnull=True).exists(), "every contract has a renewal"
    stages = set(Renewal.objects.values_list("stage", flat=True))
    assert {"upcoming", "renewed", "expanded", "downgraded", "lost"} <= stages
    assert not Renewal.objects.filter(stage__in=["lost", "downgraded"], reason__isnull=True).exists()
    assert set(RevenueEntry.objects.values_list("kind", flat=True)) == {"new", "expansion", "contraction", "churn"}
    assert RenewalNotice.objects.filter(status=RenewalNotice.Status.SENT).exists()

    lost = set(Renewal.objects.filter(stage="lost").values_list("contract__account_id", flat=True))
    utilization = latest_utilization(list(Contract.objects.values_list("account_id", flat=True).distinct()))
    kept = set(utilization) - lost
    assert mean(utilization[a] for a in lost) < mean(utilization[a] for a in kept)
