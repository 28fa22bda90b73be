"""The eight success metrics and the recurring-revenue figures (docs/domain.md), for one period.

Recurring revenue comes from the ledger (``renewals.RevenueEntry``): the recurring revenue
(RR) at a day is the sum of entries effective on or before it, and a period's movement is the
sum of its entries by kind. Every figure names its formula exactly as it is shown on screen.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from accounts.models import Account, HealthScore, Touchpoint, UsageSnapshot
from csm import roles
from playbooks.models import Milestone, OnboardingItem
from renewals.currency import Rates, Total
from renewals.models import Renewal, RevenueEntry

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
PERIOD_KINDS = ("month", "quarter", "year")

FORMULAS = {
    "existing_rr": "Existing RR = recurring revenue at the start of the period (ledger entries effective before it)",
    "rr_added": "RR Added = new logos + expansion",
    "rr_lost": "RR Lost = churn + contraction (downgrades)",
    "net_recurring_revenue": "Net Recurring Revenue = Existing RR − RR Lost + RR Added",  # noqa: RUF001 (a real minus sign)
    "recurring_revenue_rate": "Recurring Revenue Rate = RR at end of period ÷ RR at start of period",
    "customer_retention_rate": (
        "Customer retention rate = customers with RR > 0 at the start still with RR > 0 at the end"
        " ÷ customers with RR > 0 at the start"
    ),
    "net_revenue_retention": (
        "Net revenue retention = RR at the end of the customers who had RR at the start (their expansion,"
        " contraction and churn included, new logos excluded) ÷ their RR at the start"
    ),
    "onboard": (
        "Onboard = new customers whose onboarding checklist is complete ÷ new customers whose checklist fell due"
        " in the period"
    ),
    "adoption": "Adoption = Σ licenses active ÷ Σ licenses purchased, over the period's usage snapshots (licence use)",
    "adoption_milestones": (
        "Adoption milestones = adoption milestones reached ÷ adoption milestones due in the period (the program's"
        " success-plan template marks which milestones are about adoption)"
    ),
    "advanced_users": (
        "Advanced users = Σ advanced users ÷ Σ (basic + advanced users), over the period's usage snapshots"
        " (user-days); basic users are the rest"
    ),
    "success": (
        "Success = customers who reached every success-plan milestone due in the period ÷ customers with"
        " milestones due in the period"
    ),
    "availability": "Availability = average availability % (time without downtime) over the period's usage snapshots",
    "engagement_quality": "Engagement quality = touchpoints with a positive outcome ÷ all touchpoints in the period",
    "retention": (
        "Retention = renewals committed or renewed (renewed, expanded, downgraded) ÷ renewals of contracts ending"
        " in the period"
    ),
    "health": (
        "Health = mean of Adoption (licence use), Success, Retention and the Recurring Revenue Rate (capped at 100 %),"
        " over those with data"
    ),
    "health_green": (
        "Health bands = accounts whose latest health score by the period's end is green ÷ accounts with a score"
    ),
    "gross_revenue_retention": (
        "Gross revenue retention = Σ over the customers who had RR at the start of min(their RR at the end, their RR"
        " at the start) ÷ their RR at the start (churn and contraction count, expansion does not)"
    ),
    "gains_by_reason": "Gains by reason = new-logo and expansion entries of the period, per reason code",
    "losses_by_reason": "Losses by reason = churn and contraction entries of the period, per reason code",
    "currency": (
        "Totals are in the base currency: each currency's sum times its rate in force at the period's end"
        " (admin's exchange-rate table); without a rate, figures are shown per currency, never added up"
    ),
}


# --- Periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%b %Y")
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return str(self.start.year)

    def previous(self) -> "Period":
        return period_containing(self.kind, self.start - timedelta(days=1))


def period_containing(kind: str, day: date) -> Period:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}")
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year, 12, 31))
    first_month = day.month if kind == "month" else 3 * ((day.month - 1) // 3) + 1
    last_month = first_month if kind == "month" else first_month + 2
    last_day = calendar.monthrange(day.year, last_month)[1]
    return Period(kind, date(day.year, first_month, 1), date(day.year, last_month, last_day))


def last_periods(kind: str, day: date, count: int) -> list[Period]:
    """The ``count`` periods ending with the one containing ``day``, oldest first."""
    periods = [period_containing(kind, day)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]


# --- Scope --------------------------------------------------------------------------------


def scoped_accounts(
    user: roles.User, *, csm: int | None = None, segment: str | None = None, program: int | None = None
) -> QuerySet[Account]:
    """The accounts ``user`` may see, narrowed by success manager, segment and program."""
    accounts = Account.objects.visible_to(user)
    if csm:
        accounts = accounts.filter(owner_id=csm)
    if segment:
        accounts = accounts.filter(segment=segment)
    if program:
        accounts = accounts.filter(program_id=program)
    return accounts


def money(value: Decimal | None) -> Decimal:
    """Cents, whatever the database returns (SQLite drops the scale of sums)."""
    return (value or ZERO).quantize(CENT)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """numerator ÷ denominator as a percentage with one decimal, or None when there is no base."""
    if not denominator:
        return None
    return (Decimal(numerator) * HUNDRED / Decimal(denominator)).quantize(Decimal("0.1"))


# --- Recurring revenue --------------------------------------------------------------------


@dataclass
class RevenueFigures:
    period: Period
    existing_rr: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal  # negative, as in the ledger
    churn: Decimal  # negative, as in the ledger
    end_rr: Decimal
    customers_at_start: int = 0
    customers_retained: int = 0
    cohort_rr_at_start: Decimal = ZERO
    cohort_rr_at_end: Decimal = ZERO
    cohort_rr_kept: Decimal = ZERO  # each customer's end RR capped at its start RR (no expansion)
    currency: str = "USD"

    @property
    def rr_added(self) -> Decimal:
        return self.new + self.expansion

    @property
    def rr_lost(self) -> Decimal:
        return abs(self.contraction + self.churn)  # both are ≤ 0 in the ledger

    @property
    def churn_lost(self) -> Decimal:
        return abs(self.churn)

    @property
    def contraction_lost(self) -> Decimal:
        return abs(self.contraction)

    @property
    def net_recurring_revenue(self) -> Decimal:
        return self.existing_rr - self.rr_lost + self.rr_added

    @property
    def net_change(self) -> Decimal:
        return self.net_recurring_revenue - self.existing_rr

    @property
    def recurring_revenue_rate(self) -> Decimal | None:
        return ratio(self.end_rr, self.existing_rr)

    @property
    def customer_retention_rate(self) -> Decimal | None:
        return ratio(self.customers_retained, self.customers_at_start)

    @property
    def net_revenue_retention(self) -> Decimal | None:
        return ratio(self.cohort_rr_at_end, self.cohort_rr_at_start)

    @property
    def gross_revenue_retention(self) -> Decimal | None:
        return ratio(self.cohort_rr_kept, self.cohort_rr_at_start)

    def waterfall(self) -> list[dict]:
        """Floating bars: start → new → expansion → contraction → churn → end."""
        steps, level = [{"label": "Start RR", "low": ZERO, "high": self.existing_rr, "kind": "total"}], self.existing_rr
        for label, amount, kind in (
            ("New logos", self.new, "gain"),
            ("Expansion", self.expansion, "gain"),
            ("Contraction", self.contraction, "loss"),
            ("Churn", self.churn, "loss"),
        ):
            steps.append(
                {"label": label, "low": min(level, level + amount), "high": max(level, level + amount), "kind": kind}
            )
            level += amount
        steps.append({"label": "End RR", "low": ZERO, "high": self.end_rr, "kind": "total"})
        return steps


MOVEMENT_KINDS = ("new", "expansion", "contraction", "churn")


@dataclass
class RevenueBook:
    """A period's revenue figures in the base currency (None when a rate is missing) and per currency."""

    figures: RevenueFigures | None
    per_currency: list[RevenueFigures]
    rates: Rates
    missing: list[str] = field(default_factory=list)

    @property
    def rates_note(self) -> str:
        return self.rates.total({f.currency: f.end_rr for f in self.per_currency}).rates_note()


def _figures(period: Period, currency: str, totals: dict, per_account: dict[int, list[Decimal]]) -> RevenueFigures:
    customers_at_start = customers_retained = 0
    cohort_start = cohort_end = cohort_kept = ZERO
    for at_start, at_end in per_account.values():
        if at_start <= 0:
            continue
        customers_at_start += 1
        customers_retained += at_end > 0
        cohort_start += at_start
        cohort_end += max(at_end, ZERO)
        cohort_kept += min(max(at_end, ZERO), at_start)
    return RevenueFigures(
        period=period,
        existing_rr=money(totals.get("existing")),
        new=money(totals.get("new")),
        expansion=money(totals.get("expansion")),
        contraction=money(totals.get("contraction")),
        churn=money(totals.get("churn")),
        end_rr=money(totals.get("end")),
        customers_at_start=customers_at_start,
        customers_retained=customers_retained,
        cohort_rr_at_start=money(cohort_start),
        cohort_rr_at_end=money(cohort_end),
        cohort_rr_kept=money(cohort_kept),
        currency=currency,
    )


def rates_for(period: Period) -> Rates:
    """A report's figures are converted at the rates in force at its period's end."""
    return Rates.as_of(period.end)


def revenue_book(accounts: QuerySet[Account], period: Period, rates: Rates | None = None) -> RevenueBook:
    """The period's revenue figures per currency and, when every currency has a rate, in the base currency."""
    rates = rates or rates_for(period)
    entries = RevenueEntry.objects.filter(account__in=accounts)
    in_period = Q(effective_on__gte=period.start, effective_on__lte=period.end)
    rows = entries.values("currency").annotate(
        existing=Sum("amount", filter=Q(effective_on__lt=period.start)),
        end=Sum("amount", filter=Q(effective_on__lte=period.end)),
        **{kind: Sum("amount", filter=in_period & Q(kind=kind)) for kind in MOVEMENT_KINDS},
    )
    totals: dict[str, dict] = {row["currency"]: dict(row) for row in rows}
    # Per customer and currency: RR at the start and at the end (for the retention figures).
    accounts_rows = (
        entries.filter(effective_on__lte=period.end)
        .values("account_id", "currency")
        .annotate(at_start=Sum("amount", filter=Q(effective_on__lt=period.start)), at_end=Sum("amount"))
    )
    per_account: dict[str, dict[int, list[Decimal]]] = {currency: {} for currency in totals}
    for row in accounts_rows:
        per_account.setdefault(row["currency"], {})[row["account_id"]] = [
            row["at_start"] or ZERO,
            row["at_end"] or ZERO,
        ]
    per_currency = [
        _figures(period, currency, totals.get(currency, {}), per_account.get(currency, {}))
        for currency in sorted(set(totals) | set(per_account), key=lambda c: (c != rates.base, c))
    ]
    missing = sorted(currency for currency in totals if rates.rate(currency) is None)
    if missing:
        return RevenueBook(None, per_currency, rates, missing)
    # Every currency has a rate: convert each aggregate (Rates.convert), then add them up.
    base_totals: dict[str, Decimal] = {}
    for currency, sums in totals.items():
        for key in ("existing", "end", *MOVEMENT_KINDS):
            base_totals[key] = base_totals.get(key, ZERO) + (rates.convert(sums[key] or ZERO, currency) or ZERO)
    base_accounts: dict[int, list[Decimal]] = {}
    for currency, accounts_of in per_account.items():
        for account_id, (at_start, at_end) in accounts_of.items():
            pair = base_accounts.setdefault(account_id, [ZERO, ZERO])
            pair[0] += rates.convert(at_start, currency) or ZERO
            pair[1] += rates.convert(at_end, currency) or ZERO
    return RevenueBook(_figures(period, rates.base, base_totals, base_accounts), per_currency, rates)


def revenue_figures(accounts: QuerySet[Account], period: Period, rates: Rates | None = None) -> RevenueFigures | None:
    """The period's figures in the base currency, or None when a currency in scope has no rate."""
    return revenue_book(accounts, period, rates).figures


def _by_reason(accounts: QuerySet[Account], period: Period, kinds: tuple[str, ...], rates: Rates) -> list[dict]:
    """The period's entries of ``kinds`` per reason code and currency, combined in the base currency
    where every currency has a rate (``Rates.total``), else one row per reason and currency."""
    rows = (
        RevenueEntry.objects.filter(account__in=accounts, kind__in=kinds)
        .between(period.start, period.end)
        .values("reason_id", "reason__label", "currency")
        .annotate(
            total=Sum("amount"),
            customers=Count("account", distinct=True),
            **{kind: Sum("amount", filter=Q(kind=kind)) for kind in kinds},
        )
    )
    grouped: dict[tuple, list[dict]] = {}
    for row in rows:
        grouped.setdefault((row["reason_id"], row["reason__label"]), []).append(row)
    result = []
    for (reason_id, label), parts in grouped.items():
        keys = [("total", "total"), *((kind, kind) for kind in kinds)]
        totals = {key: rates.total([(p["currency"], abs(p[field] or ZERO)) for p in parts]) for key, field in keys}
        result.append(
            {
                "reason": label or "No reason recorded",
                "reason_id": reason_id,
                **{key: totals[key] for key, _ in keys},
                "customers": sum(p["customers"] for p in parts),
            }
        )
    # Largest first; rows that cannot be converted go after, largest of their first currency first.
    return sorted(
        result,
        key=lambda r: (
            r["total"].amount is None,
            -(r["total"].amount or max(r["total"].by_currency.values())),
            r["reason"],
        ),
    )


def loss_reasons(accounts: QuerySet[Account], period: Period, rates: Rates | None = None) -> list[dict]:
    """Why revenue was lost in the period (churn and contraction), largest loss first; amounts are ``Total``s."""
    rows = _by_reason(accounts, period, ("churn", "contraction"), rates or rates_for(period))
    return [{**row, "lost": row.pop("total")} for row in rows]


def gain_reasons(accounts: QuerySet[Account], period: Period, rates: Rates | None = None) -> list[dict]:
    """Why revenue was gained in the period (new logos and expansion), by reason code, largest gain first."""
    rows = _by_reason(accounts, period, ("new", "expansion"), rates or rates_for(period))
    for row in rows:
        if row["reason_id"] is None and not any(row["expansion"].by_currency.values()):
            row["reason"] = "New logo (no reason recorded)"
    return [{**row, "gained": row.pop("total")} for row in rows]


# --- The eight success metrics ------------------------------------------------------------


@dataclass
class Metric:
    key: str
    name: str
    value: Decimal | None
    unit: str = "%"
    numerator: Decimal | int | None = None
    denominator: Decimal | int | None = None
    formula: str = ""
    detail: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "formula": self.formula,
            "detail": self.detail,
            "extra": self.extra,
        }


def ratio_metric(key: str, name: str, numerator: int, denominator: int, *, detail: str) -> Metric:
    """A metric that is a share: numerator ÷ denominator as a percentage, with its formula."""
    return Metric(
        key,
        name,
        ratio(numerator, denominator),
        numerator=numerator,
        denominator=denominator,
        formula=FORMULAS[key],
        detail=detail,
    )


def onboard(accounts: QuerySet[Account], period: Period) -> Metric:
    # A checklist "falls due" in the period when its last item is due in it.
    cohort = (
        OnboardingItem.objects.filter(account__in=accounts)
        .values("account_id")
        .annotate(last_due=Max("due_on"), open_items=Count("pk", filter=Q(completed_on__isnull=True)))
        .filter(last_due__gte=period.start, last_due__lte=period.end)
    )
    total = complete = 0
    for row in cohort:
        total += 1
        complete += row["open_items"] == 0
    return ratio_metric(
        "onboard", "Onboard", complete, total, detail=f"{complete} of {total} new customers fully onboarded"
    )


def adoption(accounts: QuerySet[Account], period: Period) -> Metric:
    sums = (
        UsageSnapshot.objects.filter(account__in=accounts)
        .between(period.start, period.end)
        .aggregate(active=Sum("licenses_active"), purchased=Sum("licenses_purchased"))
    )
    active, purchased = sums["active"] or 0, sums["purchased"] or 0
    return ratio_metric(
        "adoption", "Adoption", active, purchased, detail=f"{active:,} of {purchased:,} license-days in use"
    )


def success(accounts: QuerySet[Account], period: Period) -> Metric:
    due = Milestone.objects.filter(
        objective__plan__account__in=accounts, due_on__gte=period.start, due_on__lte=period.end
    )
    per_account = due.values("objective__plan__account_id").annotate(
        total=Count("pk"), reached=Count("pk", filter=Q(status=Milestone.Status.REACHED))
    )
    total = reached_all = 0
    for row in per_account:
        total += 1
        reached_all += row["reached"] == row["total"]
    return ratio_metric(
        "success", "Success", reached_all, total, detail=f"{reached_all} of {total} customers reached their milestones"
    )


def availability(accounts: QuerySet[Account], period: Period) -> Metric:
    snapshots = UsageSnapshot.objects.filter(account__in=accounts, availability_pct__isnull=False).between(
        period.start, period.end
    )
    sums = snapshots.aggregate(total=Sum("availability_pct"), count=Count("pk"))
    value = None
    if sums["count"]:
        value = (sums["total"] / sums["count"]).quantize(Decimal("0.01"))
    return Metric(
        "availability",
        "Availability",
        value,
        numerator=sums["total"],
        denominator=sums["count"],
        formula=FORMULAS["availability"],
        detail=f"over {sums['count']:,} daily snapshots",
    )


def engagement_quality(accounts: QuerySet[Account], period: Period) -> Metric:
    counts = Touchpoint.objects.filter(
        account__in=accounts, occurred_at__date__gte=period.start, occurred_at__date__lte=period.end
    ).aggregate(total=Count("pk"), positive=Count("pk", filter=Q(outcome=Touchpoint.Outcome.POSITIVE)))
    total, positive = counts["total"], counts["positive"]
    return ratio_metric(
        "engagement_quality",
        "Engagement quality",
        positive,
        total,
        detail=f"{positive} of {total} touchpoints positive",
    )


RETAINED_STAGES = (
    Renewal.Stage.COMMITTED,
    Renewal.Stage.RENEWED,
    Renewal.Stage.EXPANDED,
    Renewal.Stage.DOWNGRADED,
)


def retention(accounts: QuerySet[Account], period: Period) -> Metric:
    counts = Renewal.objects.filter(
        contract__account__in=accounts, contract__ends_on__gte=period.start, contract__ends_on__lte=period.end
    ).aggregate(total=Count("pk"), kept=Count("pk", filter=Q(stage__in=RETAINED_STAGES)))
    total, kept = counts["total"], counts["kept"]
    return ratio_metric(
        "retention", "Retention", kept, total, detail=f"{kept} of {total} renewals committed or renewed"
    )


def health_bands(accounts: QuerySet[Account], period: Period) -> Metric:
    latest = HealthScore.objects.filter(account=OuterRef("account"), day__lte=period.end).order_by("-day")
    scores = HealthScore.objects.filter(account__in=accounts, day__lte=period.end).filter(
        day=Subquery(latest.values("day")[:1])  # each account's latest day: its row, by (account, day)
    )
    counts = scores.aggregate(total=Count("day"), green=Count("day", filter=Q(band=HealthScore.Band.GREEN)))
    total, green = counts["total"], counts["green"]
    return ratio_metric(
        "health_green", "Health bands (% green)", green, total, detail=f"{green} of {total} scored accounts green"
    )


# --- Adoption in depth (docs/domain.md §4) --------------------------------------------------


def adoption_milestones(accounts: QuerySet[Account], period: Period) -> Metric:
    due = Milestone.objects.filter(
        objective__plan__account__in=accounts, is_adoption=True, due_on__gte=period.start, due_on__lte=period.end
    ).aggregate(total=Count("pk"), reached=Count("pk", filter=Q(status=Milestone.Status.REACHED)))
    total, reached = due["total"], due["reached"]
    return ratio_metric(
        "adoption_milestones",
        "Adoption milestones",
        reached,
        total,
        detail=f"{reached} of {total} adoption milestones due reached",
    )


def user_depth(accounts: QuerySet[Account], period: Period) -> Metric:
    sums = (
        UsageSnapshot.objects.filter(account__in=accounts)
        .between(period.start, period.end)
        .aggregate(basic=Sum("basic_users"), advanced=Sum("advanced_users"))
    )
    basic, advanced = sums["basic"] or 0, sums["advanced"] or 0
    metric = ratio_metric(
        "advanced_users",
        "Advanced users",
        advanced,
        basic + advanced,
        detail=f"{advanced:,} advanced and {basic:,} basic user-days",
    )
    metric.extra = {"basic": basic, "advanced": advanced, "basic_pct": ratio(basic, basic + advanced)}
    return metric


# --- Health: the composite of the seeds' rates ---------------------------------------------

HEALTH_PARTS = ("adoption", "success", "retention", "recurring_revenue_rate")


def health(parts: dict[str, Decimal | None]) -> Metric:
    """The mean of the adoption, success, retention and Recurring Revenue rates (that rate capped at 100 %)."""
    values = {key: min(value, HUNDRED) for key, value in parts.items() if value is not None}
    value = (sum(values.values(), ZERO) / len(values)).quantize(Decimal("0.1")) if values else None
    shown = ", ".join(f"{key.replace('_', ' ')} {parts[key]}%" for key in HEALTH_PARTS if parts.get(key) is not None)
    left_out = [key.replace("_", " ") for key in HEALTH_PARTS if parts.get(key) is None]
    metric = Metric(
        "health",
        "Health",
        value,
        numerator=sum(values.values(), ZERO) if values else None,
        denominator=len(values),
        formula=FORMULAS["health"],
        detail=f"mean of {shown}" + (f"; no data for {', '.join(left_out)}" if left_out else "")
        if values
        else "no rate has data",
    )
    metric.extra = {"parts": {key: parts.get(key) for key in HEALTH_PARTS}}
    return metric


def net_recurring_revenue_metric(book: "RevenueBook") -> Metric:
    figures = book.figures
    if figures is None:
        per = "; ".join(f"{f.currency} {f.net_recurring_revenue:,.2f}" for f in book.per_currency)
        return Metric(
            "net_recurring_revenue",
            "Net Recurring Revenue",
            None,
            unit="money",
            formula=FORMULAS["net_recurring_revenue"],
            detail=f"per currency ({book.rates_note}): {per}",
        )
    metric = Metric(
        "net_recurring_revenue",
        "Net Recurring Revenue",
        figures.net_recurring_revenue,
        unit="money",
        formula=FORMULAS["net_recurring_revenue"],
        detail=(
            f"net change {figures.net_change:+,.2f} on an Existing RR of {figures.existing_rr:,.2f}, {book.rates_note}"
        ),
    )
    metric.extra = {"currency": figures.currency}
    return metric


def success_metrics(accounts: QuerySet[Account], period: Period, book: "RevenueBook") -> list[Metric]:
    """The success metrics of docs/domain.md, in its order (Adoption and Health with their parts)."""
    licences = adoption(accounts, period)
    reached = success(accounts, period)
    kept = retention(accounts, period)
    rr_rate = book.figures.recurring_revenue_rate if book.figures is not None else None
    composite = health(
        {
            "adoption": licences.value,
            "success": reached.value,
            "retention": kept.value,
            "recurring_revenue_rate": rr_rate,
        }
    )
    return [
        onboard(accounts, period),
        licences,
        adoption_milestones(accounts, period),
        user_depth(accounts, period),
        reached,
        availability(accounts, period),
        engagement_quality(accounts, period),
        kept,
        composite,
        health_bands(accounts, period),
        net_recurring_revenue_metric(book),
    ]


def revenue_summary(figures: RevenueFigures) -> dict:
    """The revenue figures with their exact names and formulas, as the page and the API show them."""
    return {
        "period": {
            "kind": figures.period.kind,
            "label": figures.period.label,
            "start": figures.period.start,
            "end": figures.period.end,
        },
        "currency": figures.currency,
        "existing_rr": figures.existing_rr,
        "new": figures.new,
        "expansion": figures.expansion,
        "contraction": figures.contraction,
        "churn": figures.churn,
        "rr_added": figures.rr_added,
        "rr_lost": figures.rr_lost,
        "end_rr": figures.end_rr,
        "net_recurring_revenue": figures.net_recurring_revenue,
        "net_change": figures.net_change,
        "recurring_revenue_rate_pct": figures.recurring_revenue_rate,
        "customers_at_start": figures.customers_at_start,
        "customers_retained": figures.customers_retained,
        "customer_retention_rate_pct": figures.customer_retention_rate,
        "cohort_rr_at_start": figures.cohort_rr_at_start,
        "cohort_rr_at_end": figures.cohort_rr_at_end,
        "cohort_rr_kept": figures.cohort_rr_kept,
        "net_revenue_retention_pct": figures.net_revenue_retention,
        "gross_revenue_retention_pct": figures.gross_revenue_retention,
    }


def _reason_json(row: dict) -> dict:
    return {key: value.as_dict() if isinstance(value, Total) else value for key, value in row.items()}


@dataclass
class Report:
    period: Period
    book: RevenueBook
    metrics: list[Metric]
    reasons: list[dict]
    gains: list[dict]
    trend: list[RevenueBook]

    @property
    def figures(self) -> RevenueFigures | None:
        """The period's revenue figures in the base currency; None when a rate is missing (see ``book``)."""
        return self.book.figures

    def as_dict(self) -> dict:
        return {
            "revenue": revenue_summary(self.figures) if self.figures is not None else None,
            "revenue_by_currency": [revenue_summary(figures) for figures in self.book.per_currency],
            "currency": {
                "base": self.book.rates.base,
                "rates_as_of": self.book.rates.on,
                "missing_rates": self.book.missing,
                "note": self.book.rates_note,
            },
            "formulas": {
                key: FORMULAS[key]
                for key in (
                    "existing_rr",
                    "rr_added",
                    "rr_lost",
                    "net_recurring_revenue",
                    "recurring_revenue_rate",
                    "customer_retention_rate",
                    "net_revenue_retention",
                    "gross_revenue_retention",
                    "gains_by_reason",
                    "losses_by_reason",
                    "currency",
                )
            },
            "success_metrics": [metric.as_dict() for metric in self.metrics],
            "loss_reasons": [_reason_json(row) for row in self.reasons],
            "gain_reasons": [_reason_json(row) for row in self.gains],
            "trend": [revenue_summary(book.figures) if book.figures is not None else None for book in self.trend],
        }


def build_report(accounts: QuerySet[Account], *, kind: str, on: date, trend_periods: int = 6) -> Report:
    period = period_containing(kind, on)
    # One set of rates for the whole report (the selected period's end): the trend compares like with like.
    rates = rates_for(period)
    trend = [revenue_book(accounts, p, rates) for p in last_periods(kind, on, trend_periods)]
    book = trend[-1]
    return Report(
        period=period,
        book=book,
        metrics=success_metrics(accounts, period, book),
        reasons=loss_reasons(accounts, period, rates),
        gains=gain_reasons(accounts, period, rates),
        trend=trend,
    )
