"""The demo data (demo/renewals.py writes its own ledger rows) reconciles with its contracts."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from renewals import lifecycle, reconcile
from renewals.models import ExchangeRate, RevenueEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_a_small_demo_reconciles_on_every_month_end_with_0_differences() -> None:
    call_command("seed_demo", accounts=40)
    out = StringIO()
    call_command("reconcile_revenue", stdout=out)
    assert "0 differences" in out.getvalue()
    today = timezone.localdate()
    assert RevenueEntry.objects.count() > 40  # new logos, renewals, churn: a real ledger to reconcile
    assert set(RevenueEntry.objects.values_list("currency", flat=True)) > {"USD"}  # and not only in USD
    for days_back in range(0, 560, 30):
        assert reconcile.differences(on=today - timedelta(days=days_back)) == [], days_back
    # The lifecycle job on the demo (auto-renewals, overdue, lapses) keeps it reconciled.
    later = today + timedelta(days=45)
    done = lifecycle.run_contract_lifecycle(today=later)
    assert done["auto_renewed"] + done["lapsed"] > 0
    assert reconcile.differences(on=later) == []
    assert reconcile.differences(on=today) == []
    # The demo keeps a rate for every currency it uses, so its totals are in USD.
    assert set(ExchangeRate.objects.values_list("currency", flat=True)) == {"EUR", "GBP"}
