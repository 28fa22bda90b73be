"""The pipeline forecast per month and quarter: pipeline, committed and weighted, in the base currency."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from renewals import forecast
from renewals.models import Renewal
from tests.factories import ContractFactory, RenewalFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 10)


@pytest.fixture
def pipeline(acme):
    acme.contracts.all().delete()

    def renewal(ends_on, stage, amount, currency="USD", **kwargs):
        contract = ContractFactory(account=acme, ends_on=ends_on, recurring_amount=Decimal(amount), currency=currency)
        return RenewalFactory(contract=contract, stage=stage, owner=acme.owner, **kwargs)

    renewal(date(2026, 1, 20), "in_discussion", "1000")  # overdue: counts in the first period
    renewal(date(2026, 2, 20), "committed", "2000", forecast_amount=Decimal("2200"))
    renewal(date(2026, 3, 5), "upcoming", "1000", uplift_pct=Decimal("10"))  # 1,100 on terms
    renewal(date(2026, 3, 10), "lost", "500")
    renewal(date(2026, 4, 1), "renewed", "3000", forecast_amount=Decimal("3000"))
    return acme


def test_the_quarter_forecast_sums_pipeline_committed_and_weighted(pipeline) -> None:
    result = forecast.renewal_forecast(Renewal.objects.all(), by="quarter", today=TODAY)
    q1, q2 = result.periods[0], result.periods[1]
    assert (q1.label, q1.renewals) == ("Q1 2026", 4)
    assert q1.pipeline.amount == Decimal("4300.00")  # 1,000 + 2,200 + 1,100; the lost one left out
    assert q1.committed.amount == Decimal("2200.00")
    p = Renewal.STAGE_PROBABILITY
    weighted = (1000 * p["in_discussion"] + 2200 * p["committed"] + 1100 * p["upcoming"]) / Decimal(100)
    assert q1.weighted.amount == weighted.quantize(Decimal("0.01"))
    assert (q2.pipeline.amount, q2.committed.amount, q2.weighted.amount) == (Decimal("3000.00"),) * 3


def test_the_month_forecast_puts_each_renewal_in_the_month_its_contract_ends(pipeline) -> None:
    result = forecast.renewal_forecast(Renewal.objects.all(), by="month", today=TODAY, periods=3)
    assert [(p.label, p.renewals, p.pipeline.amount) for p in result.periods] == [
        ("Feb 2026", 2, Decimal("3200.00")),  # the overdue January one and February's
        ("Mar 2026", 2, Decimal("1100.00")),
        ("Apr 2026", 1, Decimal("3000.00")),
    ]


def test_the_forecast_api_converts_or_lists_per_currency(client, alice, pipeline, jpy_rate) -> None:
    jpy = ContractFactory(
        account=pipeline, ends_on=date(2026, 3, 20), recurring_amount=Decimal("100000"), currency="JPY"
    )
    RenewalFactory(contract=jpy, stage="committed")
    client.force_login(alice)
    with time_machine.travel(TODAY, tick=False):
        data = client.get("/api/renewals/forecast/?by=quarter").json()
    q1 = data["periods"][0]
    assert data["base_currency"] == "USD"
    assert q1["committed"]["by_currency"] == {"USD": "2200.00", "JPY": "100000.00"}
    assert q1["committed"]["amount"] == "2870.00"  # 2,200 + 100,000 at 0.0067
    assert data["stage_probabilities"]["committed"] == Renewal.STAGE_PROBABILITY["committed"]


def test_the_forecast_api_refuses_a_bad_bucket(client, alice) -> None:
    client.force_login(alice)
    response = client.get("/api/renewals/forecast/?by=week")
    assert response.status_code == 400
    assert "by" in response.json()


def test_the_renewals_page_shows_the_forecast_and_the_stage_probabilities(client, alice, pipeline) -> None:
    client.force_login(alice)
    with time_machine.travel(TODAY, tick=False):
        html = client.get("/renewals/?by=month").content.decode()
    assert 'id="forecast"' in html
    assert "Forecast by month" in html
    assert "$3,200" in html
    assert f"Committed {Renewal.STAGE_PROBABILITY['committed']} %" in html
