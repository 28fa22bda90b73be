"""A handoff's contract goes through the contract services: a renewal and a ``new`` ledger entry,
and a deal re-sent at another amount is one expansion or contraction entry."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from renewals.models import Renewal, RevenueEntry

pytestmark = pytest.mark.django_db

DEAL = {
    "deal_id": "CRM-50",
    "account_name": "Initech",
    "external_id": "INITECH",
    "what_sold": "Professional plan",
    "contract": {"starts_on": "2026-02-01", "ends_on": "2027-01-31", "recurring_amount": "50000.00"},
}


@pytest.fixture
def api(alice) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def _entries() -> list[tuple[str, Decimal]]:
    return list(RevenueEntry.objects.order_by("pk").values_list("kind", "amount"))


def test_a_handoff_creates_one_renewal_and_one_new_entry(api) -> None:
    assert api.post("/api/handoffs/", DEAL, format="json").status_code == 201
    renewal = Renewal.objects.get()
    assert (renewal.forecast_amount, str(renewal.close_date)) == (Decimal("50000.00"), "2027-01-31")
    assert _entries() == [("new", Decimal("50000.00"))]


def test_re_sent_at_a_higher_amount_is_one_expansion(api) -> None:
    api.post("/api/handoffs/", DEAL, format="json")
    more = {**DEAL, "contract": {**DEAL["contract"], "recurring_amount": "60000.00"}}
    assert api.post("/api/handoffs/", more, format="json").status_code == 200
    assert _entries() == [("new", Decimal("50000.00")), ("expansion", Decimal("10000.00"))]
    assert Renewal.objects.count() == 1


def test_re_sent_at_the_same_amount_adds_no_entry(api) -> None:
    api.post("/api/handoffs/", DEAL, format="json")
    assert api.post("/api/handoffs/", DEAL, format="json").status_code == 200
    assert _entries() == [("new", Decimal("50000.00"))]
