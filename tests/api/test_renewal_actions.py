from datetime import date

import pytest

from renewals.models import Renewal, RevenueEntry
from tests.factories import ContractFactory, RenewalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_renewal(acme) -> Renewal:
    return RenewalFactory(contract=ContractFactory(account=acme, ends_on=date(2026, 6, 30)))


def test_a_csm_advances_its_renewal(api, alice, acme_renewal) -> None:
    response = api(alice).post(f"/api/renewals/{acme_renewal.pk}/advance/", {"stage": "committed"})
    assert response.status_code == 200
    assert Renewal.objects.get(pk=acme_renewal.pk).stage == "committed"


def test_closing_through_advance_is_refused_with_a_field_error(api, alice, acme_renewal) -> None:
    response = api(alice).post(f"/api/renewals/{acme_renewal.pk}/advance/", {"stage": "lost"})
    assert response.status_code == 400
    assert "stage" in response.json()


def test_a_loss_needs_a_reason(api, alice, acme_renewal) -> None:
    response = api(alice).post(f"/api/renewals/{acme_renewal.pk}/mark-lost/", {"notes": "gone"})
    assert response.status_code == 400
    assert "reason" in response.json()
    assert not RevenueEntry.objects.exists()


def test_another_csm_gets_404_and_read_only_gets_403(api, bob, rita, acme_renewal) -> None:
    contract = acme_renewal.contract
    assert api(bob).post(f"/api/renewals/{acme_renewal.pk}/advance/", {"stage": "committed"}).status_code == 404
    assert (
        api(bob).post(f"/api/contracts/{contract.pk}/renew/", {"ends_on": "2027-06-30", "amount": "1"}).status_code
        == 404
    )
    assert api(rita).post(f"/api/renewals/{acme_renewal.pk}/mark-lost/", {"reason": "price"}).status_code == 403
    new_term = {
        "account": contract.account_id,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "recurring_amount": "5",
    }
    assert api(bob).post("/api/contracts/", new_term).status_code == 400
    assert Renewal.objects.get(pk=acme_renewal.pk).stage == "upcoming"


def test_renewing_creates_the_next_term(api, alice, acme_renewal) -> None:
    contract = acme_renewal.contract
    response = api(alice).post(f"/api/contracts/{contract.pk}/renew/", {"ends_on": "2027-06-30", "amount": "13000"})
    assert response.status_code == 201, response.content
    assert response.json()["previous"] == contract.pk
    assert Renewal.objects.get(pk=acme_renewal.pk).stage == "expanded"
    assert RevenueEntry.objects.get().amount == 1000
