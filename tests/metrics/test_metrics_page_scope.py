from datetime import date
from decimal import Decimal

import pytest

from tests.factories import RevenueEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_books(acme, globex):
    RevenueEntryFactory(account=acme, kind="new", amount=Decimal("70"), effective_on=date(2025, 1, 5))
    RevenueEntryFactory(account=globex, kind="new", amount=Decimal("30"), effective_on=date(2025, 1, 5))


def existing_rr(html: str) -> str:
    return html.split('data-metric="existing_rr"')[1].split("</div>")[0]


def test_a_csm_filtering_on_another_csm_sees_nothing_of_theirs(client, alice, bob, two_books) -> None:
    client.force_login(alice)
    html = client.get("/metrics/", {"period": "year", "on": "2026-01-01", "csm": bob.pk}).content.decode()
    assert "Select a valid choice" in html
    assert "$70.00" in existing_rr(html)  # alice's own book, the filter refused
    assert "$30.00" not in html


def test_the_manager_filters_the_team_by_csm(client, carol, alice, bob, two_books) -> None:
    client.force_login(carol)
    everyone = client.get("/metrics/", {"period": "year", "on": "2026-01-01"}).content.decode()
    only_bob = client.get("/metrics/", {"period": "year", "on": "2026-01-01", "csm": bob.pk}).content.decode()
    assert "$100.00" in existing_rr(everyone)
    assert "$30.00" in existing_rr(only_bob)


def test_the_page_shows_each_formula_with_its_exact_name(client, alice, acme) -> None:
    client.force_login(alice)
    html = client.get("/metrics/").content.decode()
    for name in ("Net Recurring Revenue =", "Recurring Revenue Rate =", "Customer retention rate =",
                 "Net revenue retention =", "Onboard =", "Adoption =", "Success =", "Availability =",
                 "Engagement quality =", "Retention =", "Health ="):  # fmt: skip
        assert name in html, name
    assert "NRR" not in html
