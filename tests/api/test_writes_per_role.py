"""Who may write through the API: read-only never, a CSM only in its own book."""

import pytest

from accounts.models import Account, Contact, Touchpoint

pytestmark = pytest.mark.django_db


def test_read_only_can_read_but_every_write_is_403(api, rita, books) -> None:
    client = api(rita)
    assert client.get("/api/accounts/").status_code == 200
    acme = books["acme"]["accounts"]
    attempts = [
        client.post("/api/accounts/", {"name": "New", "external_id": "NEW"}),
        client.patch(f"/api/accounts/{acme.pk}/", {"name": "Renamed"}),
        client.post("/api/contacts/", {"account": acme.pk, "name": "X"}),
        client.post("/api/touchpoints/", {"account": acme.pk, "occurred_at": "2026-01-01T10:00:00Z"}),
        client.post("/api/usage/bulk/", {"rows": []}, format="json"),
    ]
    assert [response.status_code for response in attempts] == [403] * len(attempts)
    assert Account.objects.get(pk=acme.pk).name == "Acme"


def test_a_csm_cannot_change_another_books_account(api, bob, books) -> None:
    acme = books["acme"]["accounts"]
    assert api(bob).patch(f"/api/accounts/{acme.pk}/", {"name": "Mine now"}).status_code == 404
    assert Account.objects.get(pk=acme.pk).name == "Acme"


def test_a_csm_cannot_add_contacts_or_touchpoints_to_another_book(api, bob, books) -> None:
    acme = books["acme"]["accounts"]
    contact = api(bob).post("/api/contacts/", {"account": acme.pk, "name": "Spy"})
    touch = api(bob).post("/api/touchpoints/", {"account": acme.pk, "occurred_at": "2026-01-01T10:00:00Z"})
    assert (contact.status_code, touch.status_code) == (409, 409)
    assert "account" in contact.json()
    assert "account" in touch.json()
    assert not Contact.objects.filter(name="Spy").exists()


def test_a_csm_adds_a_touchpoint_to_its_own_account(api, alice, books) -> None:
    acme = books["acme"]["accounts"]
    response = api(alice).post(
        "/api/touchpoints/",
        {"account": acme.pk, "kind": "meeting", "outcome": "positive", "occurred_at": "2026-01-01T10:00:00Z"},
    )
    assert response.status_code == 201, response.content
    assert Touchpoint.objects.get(pk=response.json()["id"]).by.username == "alice"


def test_a_csm_creates_accounts_only_in_its_own_book(api, alice, bob, books) -> None:
    mine = api(alice).post("/api/accounts/", {"name": "Umbrella", "external_id": "UMB"})
    theirs = api(alice).post("/api/accounts/", {"name": "Wayne", "external_id": "WAY", "owner": "bob"})
    assert mine.status_code == 201
    assert Account.objects.get(external_id="UMB").owner == alice
    assert theirs.status_code == 409
    assert theirs.json()["owner"] == ["You can only assign accounts to yourself."]


def test_bad_input_is_a_400_with_field_errors(api, alice, books) -> None:
    response = api(alice).post("/api/accounts/", {"name": "", "segment": "galactic"})
    assert response.status_code == 400
    assert set(response.json()) >= {"name", "segment"}


def test_contracts_and_renewals_change_only_through_their_operations(api, alice, books) -> None:
    contract = books["acme"]["contracts"]
    assert api(alice).patch(f"/api/contracts/{contract.pk}/", {"recurring_amount": "1"}).status_code == 405
    assert api(alice).patch(f"/api/renewals/{books['acme']['renewals'].pk}/", {"stage": "lost"}).status_code == 405
    assert api(alice).get(f"/api/contracts/{contract.pk}/").json()["recurring_amount"] == "12000.00"
