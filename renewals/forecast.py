"""The renewal forecast per month or quarter (docs/domain.md, "Renewal forecast").

Each renewal counts in the period its contract ends, for its renewal amount (``Renewal.renewal_amount``:
the forecast, else the term's amount with its uplift):

- **pipeline** = Σ amount of every renewal ending in the period but the lost ones;
- **committed** = Σ amount of the renewals committed or already renewed (renewed, expanded, downgraded);
- **weighted** = Σ amount times the probability of its stage (``Renewal.STAGE_PROBABILITY``), lost counting 0.

Open renewals whose contract already ended (overdue) count in the first period. Every amount is
converted to the base currency at the rates in force on ``today`` (``renewals.currency.Rates``),
or shown per currency where a rate is missing.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from .currency import Rates, Total
from .models import Renewal

BUCKETS = ("month", "quarter")
DEFAULT_PERIODS = {"month": 12, "quarter": 4}
ZERO = Decimal("0")
HUNDRED = Decimal("100")

FORMULAS = {
    "pipeline": "Pipeline = Σ renewal amount of the renewals ending in the period, lost ones excluded",
    "committed": "Committed = Σ renewal amount of the renewals committed, renewed, expanded or downgraded",
    "weighted": "Weighted = Σ renewal amount × the probability of its stage",  # noqa: RUF001 (as docs/domain.md writes it)
}


@dataclass
class ForecastPeriod:
    label: str
    start: date
    end: date
    renewals: int
    pipeline: Total
    committed: Total
    weighted: Total

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "renewals": self.renewals,
            "pipeline": self.pipeline.as_dict(),
            "committed": self.committed.as_dict(),
            "weighted": self.weighted.as_dict(),
        }


@dataclass
class Forecast:
    by: str
    rates: Rates
    periods: list[ForecastPeriod]

    def as_dict(self) -> dict:
        return {
            "by": self.by,
            "base_currency": self.rates.base,
            "rates_as_of": self.rates.on,
            "stage_probabilities": dict(Renewal.STAGE_PROBABILITY),
            "formulas": FORMULAS,
            "periods": [period.as_dict() for period in self.periods],
        }


def period_bounds(by: str, today: date, count: int) -> list[tuple[str, date, date]]:
    """The ``count`` months or quarters from the one containing ``today``: (label, first day, last day)."""
    if by not in BUCKETS:
        raise ValueError(f"by must be one of {', '.join(BUCKETS)}, not {by!r}")
    months = 1 if by == "month" else 3
    start = date(today.year, today.month if by == "month" else 3 * ((today.month - 1) // 3) + 1, 1)
    bounds = []
    for _ in range(count):
        end = start + relativedelta(months=months) - timedelta(days=1)
        label = f"{start:%b %Y}" if by == "month" else f"Q{(start.month - 1) // 3 + 1} {start.year}"
        bounds.append((label, start, end))
        start = end + timedelta(days=1)
    return bounds


def renewal_amount_expression() -> Coalesce:
    """``Renewal.renewal_amount`` in SQL: the forecast, else the term's amount with its uplift."""
    money = DecimalField(max_digits=20, decimal_places=4)
    on_terms = ExpressionWrapper(
        F("contract__recurring_amount") * (Value(HUNDRED) + F("uplift_pct")) / Value(HUNDRED), output_field=money
    )
    return Coalesce(F("forecast_amount"), on_terms, output_field=money)


def renewal_forecast(renewals: QuerySet[Renewal], *, by: str, today: date, periods: int | None = None) -> Forecast:
    bounds = period_bounds(by, today, periods or DEFAULT_PERIODS[by])
    first, last = bounds[0][1], bounds[-1][2]
    in_range = Q(contract__ends_on__gte=first, contract__ends_on__lte=last)
    overdue = Q(contract__ends_on__lt=first, stage__in=Renewal.OPEN_STAGES)
    rows = (
        renewals.filter(in_range | overdue)
        .values("contract__ends_on", "stage", "contract__currency")
        .annotate(n=Count("pk"), amount=Sum(renewal_amount_expression()))
        .order_by()
    )
    # Per period: counts and, per currency, the three sums (in the currency; converted below).
    sums: list[dict] = [{"n": 0, "pipeline": [], "committed": [], "weighted": []} for _ in bounds]
    for row in rows:
        ends_on, stage, currency = row["contract__ends_on"], row["stage"], row["contract__currency"]
        index = next((i for i, (_, start, end) in enumerate(bounds) if start <= ends_on <= end), 0)
        amount = row["amount"] or ZERO
        bucket = sums[index]
        bucket["n"] += row["n"]
        if stage != Renewal.Stage.LOST:
            bucket["pipeline"].append((currency, amount))
        if stage in Renewal.COMMITTED_STAGES:
            bucket["committed"].append((currency, amount))
        bucket["weighted"].append((currency, amount * Renewal.STAGE_PROBABILITY[Renewal.Stage(stage)] / HUNDRED))
    rates = Rates.as_of(today)
    return Forecast(
        by=by,
        rates=rates,
        periods=[
            ForecastPeriod(
                label=label,
                start=start,
                end=end,
                renewals=bucket["n"],
                pipeline=rates.total(bucket["pipeline"]),
                committed=rates.total(bucket["committed"]),
                weighted=rates.total(bucket["weighted"]),
            )
            for (label, start, end), bucket in zip(bounds, sums, strict=True)
        ],
    )
