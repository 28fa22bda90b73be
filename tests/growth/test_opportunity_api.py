"""The opportunities API: filters, books, read-only users, and closing won into the ledger."""

from datetime import date
from decimal import Decimal

import pytest

from growth import services
from growth.models import Opportunity, Suggestion
from renewals.models import RevenueEntry

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(acme, globex, alice, bob):
    return {
        "acme": services.create_opportunity(
            account=acme, kind="seats", title="Acme seats", amount=Decimal("5000"), close_date=date(2026, 7, 31),
            probability=80, by=alice,
        ),
        "globex": services.create_opportunity(
            account=globex, kind="services", title="Globex training", amount=Decimal("2000"),
            close_date=date(2026, 9, 30), by=bob,
        ),
    }  # fmt: skip


def listed(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["title"] for row in response.json()["results"])


def test_a_csm_lists_their_book_and_the_manager_the_team(api, alice, bob, carol, pipeline) -> None:
    assert listed(api(alice).get("/api/opportunities/")) == ["Acme seats"]
    assert listed(api(bob).get("/api/opportunities/")) == ["Globex training"]
    assert listed(api(carol).get("/api/opportunities/")) == ["Acme seats", "Globex training"]
    assert api(bob).get(f"/api/opportunities/{pipeline['acme'].pk}/").status_code == 404


def test_filters_by_kind_stage_and_close_date(api, carol, pipeline) -> None:
    assert listed(api(carol).get("/api/opportunities/", {"kind": "services"})) == ["Globex training"]
    assert listed(api(carol).get("/api/opportunities/", {"close_before": "2026-08-01"})) == ["Acme seats"]
    assert listed(api(carol).get("/api/opportunities/", {"stage": "won"})) == []
    row = api(carol).get("/api/opportunities/", {"kind": "seats"}).json()["results"][0]
    assert row["weighted_amount"] == "4000.00"


def test_create_and_close_won_through_the_api(api, alice, acme, acme_term) -> None:
    response = api(alice).post(
        "/api/opportunities/",
        {"account": acme.pk, "kind": "cross_sell", "title": "Forecasting module", "amount": "3000.00",
         "close_date": "2026-07-15", "probability": 30},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    won = api(alice).post(f"/api/opportunities/{pk}/win/", {"effective_on": "2026-07-01"}, format="json")
    assert won.status_code == 200, won.content
    assert won.json()["stage"] == "won"
    entry = RevenueEntry.objects.get(pk=won.json()["revenue_entry"])
    assert (entry.kind, entry.amount) == ("expansion", Decimal("3000.00"))
    # A second close is a 409 with the reason, never a second entry.
    again = api(alice).post(f"/api/opportunities/{pk}/win/", {}, format="json")
    assert again.status_code == 409
    assert RevenueEntry.objects.filter(kind="expansion").count() == 1


def test_bad_input_is_a_400_with_field_errors(api, alice, acme, globex) -> None:
    response = api(alice).post(
        "/api/opportunities/", {"account": acme.pk, "kind": "gift", "amount": "0", "close_date": "soon"}, format="json"
    )
    assert response.status_code == 400
    assert {"kind", "amount", "close_date"} <= set(response.json())
    # Another book's account reads as not found.
    other = api(alice).post(
        "/api/opportunities/",
        {"account": globex.pk, "kind": "upsell", "amount": "10", "close_date": "2026-07-01"},
        format="json",
    )
    assert other.status_code == 409
    assert "account" in other.json()


def test_a_read_only_user_sees_but_cannot_write(api, rita, acme, pipeline) -> None:
    assert listed(api(rita).get("/api/opportunities/")) == ["Acme seats", "Globex training"]
    assert api(rita).post(f"/api/opportunities/{pipeline['acme'].pk}/lose/", {"lost_reason": "x"}).status_code == 403
    created = api(rita).post(
        "/api/opportunities/", {"account": acme.pk, "kind": "upsell", "amount": "10", "close_date": "2026-07-01"}
    )
    assert created.status_code == 403
    assert Opportunity.objects.filter(stage="open").count() == 2


def test_a_suggestion_is_accepted_through_the_api(api, alice, bob, acme) -> None:
    suggestion = Suggestion.objects.create(
        account=acme, signal="milestone_reached", period="milestone-1", reason="Milestone reached", kind="upsell",
        raised_on=TODAY,
    )  # fmt: skip
    assert api(bob).post(f"/api/suggestions/{suggestion.pk}/accept/", {}).status_code == 404
    response = api(alice).post(
        f"/api/suggestions/{suggestion.pk}/accept/", {"amount": "1200", "close_date": "2099-06-30"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["reason"] == "Milestone reached"
    assert api(alice).post(f"/api/suggestions/{suggestion.pk}/dismiss/", {}).status_code == 409


def test_pages_turn_a_read_only_user_away(client, rita, pipeline) -> None:
    client.force_login(rita)
    assert client.get("/growth/").status_code == 200
    response = client.post(f"/growth/opportunities/{pipeline['acme'].pk}/lose/", {"lost_reason": "nope"})
    assert response.status_code == 403
    assert Opportunity.objects.get(pk=pipeline["acme"].pk).stage == "open"
