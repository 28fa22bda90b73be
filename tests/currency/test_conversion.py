"""The one conversion rule (renewals.currency.Rates) and the one money format."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from renewals.currency import Rates, format_money
from renewals.models import ExchangeRate

pytestmark = pytest.mark.django_db


def test_money_is_shown_in_the_currency_own_format(settings) -> None:
    settings.CSM_MONEY_WHOLE_FROM = 1000
    assert format_money(Decimal("12.5"), "USD") == "$12.50"
    assert format_money(Decimal("1234.56"), "USD") == "$1,235"  # no cents from 1,000 on
    assert format_money(Decimal("-25"), "EUR") == "−€25.00"  # noqa: RUF001 (a real minus sign)
    assert format_money(Decimal("100.4"), "JPY") == "¥100"  # JPY has no minor unit
    assert format_money(Decimal("999.99"), "CHF") == "CHF 999.99"  # no symbol: the code
    assert format_money(None, "USD") == "—"


def test_usd_100_and_jpy_100_convert_at_the_stated_rate(jpy_rate) -> None:
    total = Rates.as_of(date(2026, 6, 1)).total({"USD": Decimal("100"), "JPY": Decimal("100")})
    assert total.amount == Decimal("100.67")
    assert str(total) == "$100.67"
    assert "as of 1 Jun 2026" in total.rates_note()
    assert "1 JPY = 0.0067 USD" in total.rates_note()


def test_without_a_rate_the_total_is_per_currency_never_the_raw_sum() -> None:
    total = Rates.as_of(date(2026, 6, 1)).total([("USD", Decimal("100")), ("JPY", Decimal("100"))])
    assert total.amount is None
    assert total.missing == ["JPY"]
    assert str(total) == "$100.00 + ¥100"
    assert "200" not in str(total)
    assert "no rate to USD" in total.rates_note()


def test_the_rate_in_force_is_the_latest_effective_on_or_before_the_day() -> None:
    for day, rate in ((date(2026, 1, 1), "0.0060"), (date(2026, 4, 1), "0.0070"), (date(2026, 9, 1), "0.0080")):
        ExchangeRate.objects.create(currency="JPY", rate=Decimal(rate), effective_from=day)
    assert Rates.as_of(date(2026, 3, 31)).convert(Decimal("1000"), "JPY") == Decimal("6.0000000000")
    assert Rates.as_of(date(2026, 6, 30)).convert(Decimal("1000"), "JPY") == Decimal("7.0000000000")
    assert Rates.as_of(date(2025, 12, 31)).convert(Decimal("1000"), "JPY") is None
    assert Rates.as_of(date(2025, 12, 31)).convert(Decimal("1000"), "USD") == Decimal("1000")


def test_a_rate_for_the_base_currency_or_a_bad_code_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        ExchangeRate(currency="usd", rate=Decimal("1"), effective_from=date(2026, 1, 1)).full_clean()
    assert "base currency" in str(error.value)
    with pytest.raises(ValidationError):
        ExchangeRate(currency="YENN", rate=Decimal("1"), effective_from=date(2026, 1, 1)).full_clean()


def test_the_rate_table_is_audited_and_kept_in_admin(client, admin_user) -> None:
    client.force_login(admin_user)
    response = client.post(
        "/admin/renewals/exchangerate/add/", {"currency": "jpy", "rate": "0.0067", "effective_from": "2026-01-01"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rate = ExchangeRate.objects.get()
    assert rate.currency == "JPY"
    assert rate.history.count() == 1
