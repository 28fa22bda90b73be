"""Mixed currencies on the metrics page and API: converted at stated rates, or per currency, never summed raw."""

from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db

Q = "/metrics/?period=quarter&on=2026-06-15"


def test_the_metrics_page_converts_usd_and_jpy_at_the_stated_rate(client, alice, mixed_book, jpy_rate) -> None:
    client.force_login(alice)
    html = client.get(Q).content.decode()
    assert "$100.67" in html  # RR at end of Q2: USD 100 + JPY 100 at 0.0067
    assert "at rates as of 30 Jun 2026" in html
    assert "1 JPY = 0.0067 USD" in html
    assert "200.00" not in html
    assert "$200" not in html


def test_without_a_rate_the_metrics_page_shows_each_currency_and_no_sum(client, alice, mixed_book) -> None:
    client.force_login(alice)
    html = client.get(Q).content.decode()
    assert 'id="revenue-per-currency"' in html
    assert "¥100" in html
    assert "$100.00" in html
    assert "no rate to USD as of 30 Jun 2026 for JPY" in html
    assert "200" not in html.replace("2026", "")


def test_the_metrics_api_gives_the_base_total_with_its_rates(client, alice, mixed_book, jpy_rate) -> None:
    client.force_login(alice)
    data = client.get("/api/metrics/?period=quarter&on=2026-06-15").json()
    assert data["revenue"]["currency"] == "USD"
    assert Decimal(data["revenue"]["end_rr"]) == Decimal("100.67")
    assert data["currency"]["rates_as_of"] == "2026-06-30"
    assert [(r["currency"], r["end_rr"]) for r in data["revenue_by_currency"]] == [("USD", "100.00"), ("JPY", "100.00")]


def test_without_a_rate_the_metrics_api_has_no_base_total(client, alice, mixed_book) -> None:
    client.force_login(alice)
    data = client.get("/api/metrics/?period=quarter&on=2026-06-15").json()
    assert data["revenue"] is None
    assert data["currency"]["missing_rates"] == ["JPY"]
    assert {r["currency"]: r["end_rr"] for r in data["revenue_by_currency"]} == {"USD": "100.00", "JPY": "100.00"}
    nrr = next(m for m in data["success_metrics"] if m["key"] == "net_recurring_revenue")
    assert nrr["value"] is None
