# ruff: noqa: RUF001, RUF002  (real minus signs, as docs/domain.md and the page write them)
"""The worked example of docs/domain.md: $100 → +$45 new, +$5 expansion, −$25 churn, −$5 downgrade → $120, rate 120%."""

from datetime import date
from decimal import Decimal

import pytest

from metrics import report as metrics

pytestmark = pytest.mark.django_db


def q1_figures(user):
    return metrics.revenue_figures(
        metrics.scoped_accounts(user), metrics.period_containing("quarter", date(2026, 2, 10))
    )


def test_the_worked_example_ends_at_120_with_a_120_percent_rate(alice, worked_example) -> None:
    figures = q1_figures(alice)
    assert figures.existing_rr == Decimal("100")
    assert (figures.new, figures.expansion) == (Decimal("45"), Decimal("5"))
    assert (figures.churn, figures.contraction) == (Decimal("-25"), Decimal("-5"))
    assert figures.rr_added == Decimal("50")
    assert figures.rr_lost == Decimal("30")
    assert figures.end_rr == Decimal("120")
    assert figures.net_recurring_revenue == Decimal("120")
    assert figures.net_change == Decimal("20")
    assert figures.recurring_revenue_rate == Decimal("120.0")


def test_retention_rates_follow_the_start_cohort_and_exclude_new_logos(alice, worked_example) -> None:
    figures = q1_figures(alice)
    # Acme (75 → 75) stays, Initech (25 → 0) churns; Hooli is a new logo and does not count.
    assert (figures.customers_at_start, figures.customers_retained) == (2, 1)
    assert figures.customer_retention_rate == Decimal("50.0")
    assert (figures.cohort_rr_at_start, figures.cohort_rr_at_end) == (Decimal("100"), Decimal("75"))
    assert figures.net_revenue_retention == Decimal("75.0")


def test_another_csm_sees_none_of_it(bob, globex, worked_example) -> None:
    figures = q1_figures(bob)
    assert figures.existing_rr == figures.end_rr == Decimal("0")
    assert figures.recurring_revenue_rate is None


def test_loss_reasons_are_ranked_by_revenue_lost(alice, worked_example) -> None:
    period = metrics.period_containing("quarter", date(2026, 1, 1))
    reasons = metrics.loss_reasons(metrics.scoped_accounts(alice), period)
    assert [(r["reason"], r["lost"].amount) for r in reasons] == [
        ("Budget cut", Decimal("25")),
        ("Fewer seats needed", Decimal("5")),
    ]


def test_the_waterfall_floats_each_movement_from_the_running_total(alice, worked_example) -> None:
    steps = q1_figures(alice).waterfall()
    assert [(s["label"], s["low"], s["high"]) for s in steps] == [
        ("Start RR", 0, 100),
        ("New logos", 100, 145),
        ("Expansion", 145, 150),
        ("Contraction", 145, 150),
        ("Churn", 120, 145),
        ("End RR", 0, 120),
    ]


def test_the_worked_example_through_the_api(alice, worked_example) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(alice)
    response = client.get("/api/metrics/", {"period": "quarter", "on": "2026-03-15"})
    assert response.status_code == 200
    revenue = response.json()["revenue"]
    assert revenue["existing_rr"] == "100.00"
    assert (revenue["new"], revenue["expansion"], revenue["churn"], revenue["contraction"]) == (
        "45.00", "5.00", "-25.00", "-5.00",
    )  # fmt: skip
    assert revenue["end_rr"] == "120.00"
    assert revenue["net_recurring_revenue"] == "120.00"
    assert revenue["recurring_revenue_rate_pct"] == "120.0"
    assert response.json()["formulas"]["recurring_revenue_rate"].startswith("Recurring Revenue Rate = ")


def test_the_worked_example_on_the_page(client, alice, worked_example) -> None:
    client.force_login(alice)
    response = client.get("/metrics/", {"period": "quarter", "on": "2026-03-15"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Q1 2026" in html
    net = html.split('id="net-recurring-revenue"')[1].split("</tr>")[0]
    assert "Net Recurring Revenue" in net
    assert "$120.00" in net
    assert "Existing RR − RR Lost + RR Added" in net
    rate = html.split('id="recurring-revenue-rate"')[1].split("</tr>")[0]
    assert "Recurring Revenue Rate" in rate
    assert "120.0%" in rate
    assert "RR at end of period ÷ RR at start of period" in rate


def test_gross_revenue_retention_counts_losses_but_not_expansion(alice, worked_example) -> None:
    figures = q1_figures(alice)
    # Cohort at the start: Acme 75 (+5 expansion, -5 downgrade: 75), Initech 25 (churned: 0).
    assert figures.cohort_rr_kept == Decimal("75")
    assert figures.gross_revenue_retention == Decimal("75.0")
    assert figures.gross_revenue_retention <= figures.net_revenue_retention


def test_gains_are_broken_down_by_reason(alice, worked_example) -> None:
    from renewals.models import ReasonCode
    from tests.factories import RevenueEntryFactory

    seats = ReasonCode.objects.create(code="more-seats", label="More seats", applies_to="expansion")
    RevenueEntryFactory(
        account=worked_example["acme"], kind="expansion", amount=Decimal("7"), effective_on=date(2026, 3, 2),
        reason=seats,
    )  # fmt: skip
    period = metrics.period_containing("quarter", date(2026, 1, 1))
    gains = metrics.gain_reasons(metrics.scoped_accounts(alice), period)
    assert [(g["reason"], g["gained"].amount, g["new"].amount, g["expansion"].amount) for g in gains] == [
        ("No reason recorded", Decimal("50.00"), Decimal("45.00"), Decimal("5.00")),
        ("More seats", Decimal("7.00"), Decimal("0.00"), Decimal("7.00")),
    ]


def test_the_page_names_gross_revenue_retention_and_shows_gains_by_reason(client, alice, worked_example) -> None:
    client.force_login(alice)
    html = client.get("/metrics/?period=quarter&on=2026-02-10").content.decode()
    assert "Gross revenue retention =" in html
    assert 'id="gross-revenue-retention"' in html
    assert 'id="gains-by-reason"' in html
    assert "Health bands =" in html
