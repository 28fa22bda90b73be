"""Money in several currencies: the one conversion rule and the one money format (docs/domain.md, "Currencies").

Every total shown in the base (reporting) currency, ``settings.CSM_BASE_CURRENCY``, is built by
``Rates.total`` from amounts grouped by currency, converted by ``Rates.convert`` at the rate in
force on the day the total is "as of" (the latest ``ExchangeRate`` effective on or before it).
When a currency has no rate on that day, the total has no base amount and shows its amounts per
currency instead: amounts in different currencies are never added as they are.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import ExchangeRate

CENT = Decimal("0.01")
ZERO = Decimal("0")

# The currency's own format: symbol (or code) and decimals. Unlisted currencies show their code.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹", "CNY": "CN¥"}
DECIMALS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "HUF": 0}


def base_currency() -> str:
    return settings.CSM_BASE_CURRENCY


def format_money(
    amount: Decimal | float | int | None, currency: str | None = None, *, cents: bool | None = None
) -> str:
    """``amount`` in ``currency``'s own format: "$1,234", "$12.50", "¥12,345", "CHF 1,234".

    Cents are dropped at or above ``CSM_MONEY_WHOLE_FROM`` (and never shown for JPY and the other
    currencies without minor units); ``cents`` forces them on or off.
    """
    if amount is None:
        return "—"
    currency = (currency or base_currency()).upper()
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    decimals = DECIMALS.get(currency, 2)
    if cents is False or (cents is None and abs(value) >= settings.CSM_MONEY_WHOLE_FROM):
        decimals = 0
    quantum = Decimal(1).scaleb(-decimals)
    text = f"{abs(value.quantize(quantum, rounding=ROUND_HALF_UP)):,.{decimals}f}"
    symbol = SYMBOLS.get(currency)
    sign = "−" if value.quantize(quantum, rounding=ROUND_HALF_UP) < 0 else ""  # noqa: RUF001 (a real minus sign)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}"


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: Decimal
    effective_from: date


@dataclass
class Total:
    """A sum of amounts in several currencies: in the base currency when every one has a rate."""

    base: str
    on: date
    by_currency: dict[str, Decimal]
    amount: Decimal | None  # in the base currency; None when a rate is missing
    rates: list[Rate] = field(default_factory=list)  # the rates used, base excluded
    missing: list[str] = field(default_factory=list)

    @property
    def converted(self) -> bool:
        return self.amount is not None

    @property
    def mixed(self) -> bool:
        return any(currency != self.base for currency in self.by_currency)

    def lines(self) -> list[tuple[str, Decimal]]:
        """The amounts per currency, base currency first."""
        return sorted(self.by_currency.items(), key=lambda item: (item[0] != self.base, item[0]))

    def rates_note(self) -> str:
        """'at rates as of 2 Dec 2026: 1 JPY = 0.0067 USD', or what is missing."""
        day = f"{self.on:%-d %b %Y}"
        if self.missing:
            return f"no rate to {self.base} as of {day} for {', '.join(self.missing)}: shown per currency"
        if not self.rates:
            return f"in {self.base}"
        used = "; ".join(
            f"1 {r.currency} = {r.rate.normalize():f} {self.base} (from {r.effective_from})" for r in self.rates
        )
        return f"in {self.base} at rates as of {day}: {used}"

    def as_dict(self) -> dict:
        return {
            "currency": self.base if self.converted else None,
            "amount": self.amount.quantize(CENT) if self.amount is not None else None,
            "by_currency": {currency: amount.quantize(CENT) for currency, amount in self.lines()},
            "rates_as_of": self.on,
            "rates": [{"currency": r.currency, "rate": r.rate, "effective_from": r.effective_from} for r in self.rates],
            "missing_rates": self.missing,
        }

    def __str__(self) -> str:
        if self.amount is not None:
            return format_money(self.amount, self.base)
        return " + ".join(format_money(amount, currency) for currency, amount in self.lines()) or format_money(
            ZERO, self.base
        )


class Rates:
    """The rates in force on one day, read once: ``Rates.as_of(day)``."""

    def __init__(self, on: date, rates: Mapping[str, Rate], base: str | None = None) -> None:
        self.on = on
        self.base = base or base_currency()
        self._rates = dict(rates)

    @classmethod
    def as_of(cls, on: date) -> "Rates":
        # The table is small (a row per currency and rate change): read it and keep the latest per currency.
        rates: dict[str, Rate] = {}
        for currency, rate, day in (
            ExchangeRate.objects.filter(effective_from__lte=on)
            .order_by("currency", "-effective_from")
            .values_list("currency", "rate", "effective_from")
        ):
            rates.setdefault(currency, Rate(currency, rate, day))
        return cls(on, rates)

    def rate(self, currency: str) -> Rate | None:
        if currency == self.base:
            return Rate(currency, Decimal(1), date.min)
        return self._rates.get(currency)

    def convert(self, amount: Decimal, currency: str) -> Decimal | None:
        """``amount`` of ``currency`` in the base currency, or None when there is no rate: the one rule."""
        rate = self.rate(currency)
        if rate is None:
            return None
        return amount if currency == self.base else amount * rate.rate

    def total(self, amounts: Mapping[str, Decimal | None] | Iterable[tuple[str, Decimal | None]]) -> Total:
        """Amounts of several currencies as one ``Total`` (pairs may repeat a currency)."""
        by_currency: dict[str, Decimal] = {}
        for currency, amount in amounts.items() if isinstance(amounts, Mapping) else amounts:
            by_currency[currency] = by_currency.get(currency, ZERO) + (amount or ZERO)
        converted = [self.convert(amount, currency) for currency, amount in by_currency.items()]
        missing = sorted(currency for currency in by_currency if self.rate(currency) is None)
        used = sorted((r for c in by_currency if c != self.base and (r := self.rate(c))), key=lambda r: r.currency)
        amount = None if missing else sum((value or ZERO for value in converted), ZERO).quantize(CENT)
        return Total(self.base, self.on, by_currency, amount, rates=used, missing=missing)
