"""Every endpoint applies the pages' visibility rules: a CSM token sees only its own book."""

import pytest

from tests.factories import RevenueEntryFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = ["accounts", "contacts", "touchpoints", "usage", "contracts", "renewals", "health"]


def key(row) -> int | str:
    """A row's id in the API: its pk, or ``<account>:<YYYY-MM-DD>`` for a health score (keyed by both)."""
    if isinstance(row.pk, tuple):
        account, day = row.pk
        return f"{account}:{day.isoformat()}"
    return row.pk


def ids(response) -> set[int | str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_csm_token_lists_only_its_own_book(api, alice, books, endpoint) -> None:
    acme_rows = {key(row) for row in type(books["acme"][endpoint]).objects.filter(pk=books["acme"][endpoint].pk)}
    listed = ids(api(alice).get(f"/api/{endpoint}/", {"page_size": 500}))
    assert key(books["acme"][endpoint]) in listed
    assert key(books["globex"][endpoint]) not in listed
    assert acme_rows <= listed


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_books_row_is_a_404(api, bob, books, endpoint) -> None:
    assert api(bob).get(f"/api/{endpoint}/{key(books['acme'][endpoint])}/").status_code == 404
    assert api(bob).get(f"/api/{endpoint}/{key(books['globex'][endpoint])}/").status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_manager_sees_the_team_books(api, carol, books, endpoint) -> None:
    listed = ids(api(carol).get(f"/api/{endpoint}/"))
    assert {key(books["acme"][endpoint]), key(books["globex"][endpoint])} <= listed


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "metrics"])
def test_without_a_token_the_api_answers_401(api, books, endpoint) -> None:
    assert api().get(f"/api/{endpoint}/").status_code == 401


def test_a_wrong_token_is_refused(api, books) -> None:
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/accounts/").status_code == 401


def test_metrics_only_count_the_callers_book(api, alice, bob, books) -> None:
    from datetime import date
    from decimal import Decimal

    RevenueEntryFactory(account=books["acme"]["accounts"], kind="new", amount=Decimal("70"),
                                effective_on=date(2026, 1, 5))  # fmt: skip
    RevenueEntryFactory(account=books["globex"]["accounts"], kind="new", amount=Decimal("30"),
                                effective_on=date(2026, 1, 5))  # fmt: skip

    def end_rr(user) -> str:
        return api(user).get("/api/metrics/", {"period": "year", "on": "2026-06-01"}).json()["revenue"]["end_rr"]

    assert (end_rr(alice), end_rr(bob)) == ("70.00", "30.00")
