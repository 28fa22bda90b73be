"""reconcile_revenue: the ledger's RR equals the contracts' RR after every kind of change."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from renewals import lifecycle, reconcile, services
from renewals.models import ReasonCode, RevenueEntry

pytestmark = pytest.mark.django_db
END = date(2026, 4, 30)


def test_every_outcome_reconciles_on_every_day(acme, globex, alice) -> None:
    a = services.create_contract(account=acme, starts_on=date(2025, 5, 1), ends_on=END, amount=Decimal("100"), by=alice)
    b = services.create_contract(
        account=globex, starts_on=date(2025, 5, 1), ends_on=END, amount=Decimal("50"), by=alice, currency="JPY"
    )
    services.change_contract_amount(
        a, amount=Decimal("80"), effective_on=date(2025, 9, 1), by=alice, reason=ReasonCode.objects.get(code="price")
    )
    lifecycle.run_contract_lifecycle(today=END + timedelta(days=31))  # both lapse
    services.renew_contract(a, ends_on=date(2027, 4, 30), amount=Decimal("120"), by=alice, today=END)  # late
    for day in (date(2025, 5, 1), date(2025, 8, 31), date(2025, 9, 1), END, END + timedelta(days=1)):
        assert reconcile.differences(on=day) == [], day
    assert b.currency == "JPY"
    call_command("reconcile_revenue", "--date", str(END + timedelta(days=40)))


def test_a_difference_is_printed_and_fails(acme, alice) -> None:
    services.create_contract(account=acme, starts_on=date(2025, 5, 1), ends_on=END, amount=Decimal("100"), by=alice)
    RevenueEntry.objects.create(account=acme, kind="expansion", amount=Decimal("5"), effective_on=date(2025, 6, 1))
    with pytest.raises(CommandError, match="1 difference"):
        call_command("reconcile_revenue", "--date", "2025-07-01")


def test_the_metrics_page_says_the_ledger_reconciles_or_shows_the_differences(client, acme, alice) -> None:
    from django.urls import reverse

    services.create_contract(account=acme, starts_on=date(2025, 5, 1), ends_on=END, amount=Decimal("100"), by=alice)
    client.force_login(alice)
    url = reverse("metrics")
    assert "Ledger reconciled with contracts as of" in client.get(url).content.decode()
    RevenueEntry.objects.create(account=acme, kind="expansion", amount=Decimal("5"), effective_on=date(2025, 6, 1))
    assert "Ledger differs from the contracts in force" in client.get(url).content.decode()
