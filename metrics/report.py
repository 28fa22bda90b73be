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
    "adoption": "Adoption = Σ licenses active ÷ Σ licenses purchased, over the period's usage snapshots",
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
    "health": "Health = accounts whose latest health score by the period's end is green ÷ accounts with a score",
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


def revenue_figures(accounts: QuerySet[Account], period: Period) -> RevenueFigures:
    entries = RevenueEntry.objects.filter(account__in=accounts)
    in_period = Q(effective_on__gte=period.start, effective_on__lte=period.end)
    totals = entries.aggregate(
        existing=Sum("amount", filter=Q(effective_on__lt=period.start)),
        end=Sum("amount", filter=Q(effective_on__lte=period.end)),
        **{
            kind: Sum("amount", filter=in_period & Q(kind=kind))
            for kind in ("new", "expansion", "contraction", "churn")
        },
    )
    # Per customer: RR at the start and at the end, then over the customers who had RR at the start.
    per_account = (
        entries.filter(effective_on__lte=period.end)
        .values("account_id")
        .annotate(at_start=Sum("amount", filter=Q(effective_on__lt=period.start)), at_end=Sum("amount"))
        .filter(at_start__gt=0)
    )
    customers_at_start = customers_retained = 0
    cohort_start = cohort_end = ZERO
    for row in per_account:
        customers_at_start += 1
        customers_retained += row["at_end"] > 0
        cohort_start += row["at_start"]
        cohort_end += max(row["at_end"], ZERO)
    return RevenueFigures(
        period=period,
        existing_rr=money(totals["existing"]),
        new=money(totals["new"]),
        expansion=money(totals["expansion"]),
        contraction=money(totals["contraction"]),
        churn=money(totals["churn"]),
        end_rr=money(totals["end"]),
        customers_at_start=customers_at_start,
        customers_retained=customers_retained,
        cohort_rr_at_start=money(cohort_start),
        cohort_rr_at_end=money(cohort_end),
    )


def loss_reasons(accounts: QuerySet[Account], period: Period) -> list[dict]:
    """Why revenue was lost in the period (churn and contraction), largest loss first."""
    rows = (
        RevenueEntry.objects.filter(account__in=accounts, kind__in=["churn", "contraction"])
        .between(period.start, period.end)
        .values("reason_id", "reason__label")
        .annotate(
            lost=Sum("amount"),
            churn=Sum("amount", filter=Q(kind="churn")),
            contraction=Sum("amount", filter=Q(kind="contraction")),
            customers=Count("account", distinct=True),
        )
        .order_by("lost", "reason__label")
    )
    return [
        {
            "reason": row["reason__label"] or "No reason recorded",
            "reason_id": row["reason_id"],
            "lost": abs(money(row["lost"])),
            "churn": abs(money(row["churn"])),
            "contraction": abs(money(row["contraction"])),
            "customers": row["customers"],
        }
        for row in rows
    ]


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


def health(accounts: QuerySet[Account], period: Period) -> Metric:
    latest = HealthScore.objects.filter(account=OuterRef("account"), day__lte=period.end).order_by("-day")
    scores = HealthScore.objects.filter(account__in=accounts, day__lte=period.end).filter(
        pk=Subquery(latest.values("pk")[:1])
    )
    counts = scores.aggregate(total=Count("pk"), green=Count("pk", filter=Q(band=HealthScore.Band.GREEN)))
    total, green = counts["total"], counts["green"]
    return ratio_metric("health", "Health", green, total, detail=f"{green} of {total} scored accounts green")


def net_recurring_revenue_metric(figures: RevenueFigures) -> Metric:
    return Metric(
        "net_recurring_revenue",
        "Net Recurring Revenue",
        figures.net_recurring_revenue,
        unit="$",
        formula=FORMULAS["net_recurring_revenue"],
        detail=f"net change {figures.net_change:+,.2f} on an Existing RR of {figures.existing_rr:,.2f}",
    )


def success_metrics(accounts: QuerySet[Account], period: Period, figures: RevenueFigures) -> list[Metric]:
    """The eight success metrics of docs/domain.md, in its order."""
    return [
        onboard(accounts, period),
        adoption(accounts, period),
        success(accounts, period),
        availability(accounts, period),
        engagement_quality(accounts, period),
        retention(accounts, period),
        health(accounts, period),
        net_recurring_revenue_metric(figures),
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
        "net_revenue_retention_pct": figures.net_revenue_retention,
    }


@dataclass
class Report:
    period: Period
    figures: RevenueFigures
    metrics: list[Metric]
    reasons: list[dict]
    trend: list[RevenueFigures]

    def as_dict(self) -> dict:
        return {
            "revenue": revenue_summary(self.figures),
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
                )
            },
            "success_metrics": [metric.as_dict() for metric in self.metrics],
            "loss_reasons": self.reasons,
            "trend": [revenue_summary(figures) for figures in self.trend],
        }


def build_report(accounts: QuerySet[Account], *, kind: str, on: date, trend_periods: int = 6) -> Report:
    period = period_containing(kind, on)
    trend = [revenue_figures(accounts, p) for p in last_periods(kind, on, trend_periods)]
    figures = trend[-1]
    return Report(
        period=period,
        figures=figures,
        metrics=success_metrics(accounts, period, figures),
        reasons=loss_reasons(accounts, period),
        trend=trend,
    )
