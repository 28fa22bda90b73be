# ruff: noqa: RUF003  (real minus signs, as docs/domain.md writes them)
"""The worked example of docs/domain.md, built only through API operations, then read back from /api/metrics/."""

import pytest

from renewals.models import Contract, RevenueEntry
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_contract_operations_write_the_ledger_that_the_metrics_read(api, alice, acme) -> None:
    client = api(alice)
    initech = AccountFactory(name="Initech", owner=alice, program=acme.program)
    hooli = AccountFactory(name="Hooli", owner=alice, program=acme.program)

    def contract(account, starts_on, ends_on, amount) -> int:
        response = client.post("/api/contracts/", {"account": account.pk, "starts_on": starts_on, "ends_on": ends_on,
                                                   "recurring_amount": amount})  # fmt: skip
        assert response.status_code == 201, response.content
        return response.json()["id"]

    # Before Q1: $100 (Acme $75, Initech $25).
    acme_contract = contract(acme, "2025-06-01", "2026-05-31", "75")
    initech_contract = contract(initech, "2025-03-01", "2026-02-28", "25")
    # In Q1: +$45 new, +$5 expansion, −$25 churn, −$5 downgrade.
    contract(hooli, "2026-02-01", "2027-01-31", "45")
    up = client.post(f"/api/contracts/{acme_contract}/change-amount/", {"amount": "80", "effective_on": "2026-02-15"})
    renewal = Contract.objects.get(pk=initech_contract).renewal.pk
    lost = client.post(f"/api/renewals/{renewal}/mark-lost/", {"reason": "budget-cut", "notes": "frozen"})
    down = client.post(f"/api/contracts/{acme_contract}/change-amount/",
                       {"amount": "75", "effective_on": "2026-03-31", "reason": "fewer-seats"})  # fmt: skip
    assert [up.status_code, lost.status_code, down.status_code] == [200, 200, 200]
    assert RevenueEntry.objects.filter(kind="churn").get().effective_on.isoformat() == "2026-03-01"

    revenue = client.get("/api/metrics/", {"period": "quarter", "on": "2026-01-01"}).json()["revenue"]
    assert (revenue["existing_rr"], revenue["rr_added"], revenue["rr_lost"]) == ("100.00", "50.00", "30.00")
    assert (revenue["new"], revenue["expansion"], revenue["churn"], revenue["contraction"]) == (
        "45.00", "5.00", "-25.00", "-5.00",
    )  # fmt: skip
    assert revenue["end_rr"] == revenue["net_recurring_revenue"] == "120.00"
    assert revenue["recurring_revenue_rate_pct"] == "120.0"
