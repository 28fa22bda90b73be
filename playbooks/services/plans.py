"""Success plans (objectives, milestones, realization), entitlements and the service usage
statement, and the playbooks panels of the account page.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import Account, HealthCheck, Touchpoint
from renewals.models import Contract

from ..models import (
    EntitlementUse,
    Milestone,
    Objective,
    Program,
    SuccessPlan,
)
from .onboarding import onboarding_progress


@transaction.atomic
def draft_success_plan(
    account: Account, *, starts_on: date, outcomes: list[dict] | tuple = (), title: str = ""
) -> SuccessPlan:
    """Create (or extend) the plan from the customer's outcomes and the program's template.

    Objectives already in the plan (same title) are not added twice.
    """
    plan, _ = SuccessPlan.objects.get_or_create(account=account, defaults={"title": title or "Success plan"})
    present = {t.casefold() for t in plan.objectives.values_list("title", flat=True)}
    position = plan.objectives.count()
    drafts = [
        {
            "title": outcome["title"],
            "milestone": outcome.get("milestone") or outcome["title"],
            "metric": outcome.get("metric", ""),
            "target": outcome.get("target"),
            "due_on": outcome.get("due_on") or starts_on + timedelta(days=90),
            "is_adoption": False,
        }
        for outcome in outcomes
    ]
    if account.program is not None:
        drafts += [
            {
                "title": t.title,
                "milestone": t.milestone_title,
                "metric": t.metric,
                "target": t.target,
                "due_on": starts_on + timedelta(days=t.due_offset_days),
                "is_adoption": t.is_adoption,
            }
            for t in account.program.plan_objectives.all()
        ]
    for draft in drafts:
        if draft["title"].casefold() in present:
            continue
        present.add(draft["title"].casefold())
        objective = Objective.objects.create(plan=plan, title=draft["title"][:200], position=position)
        position += 1
        Milestone.objects.create(
            objective=objective,
            title=draft["milestone"][:200],
            metric=draft["metric"][:100],
            target=draft["target"],
            current=Decimal("0") if draft["target"] is not None else None,
            due_on=draft["due_on"],
            is_adoption=draft["is_adoption"],
        )
    return plan


@transaction.atomic
def add_objective(account: Account, *, title: str, description: str = "") -> Objective:
    plan, _ = SuccessPlan.objects.get_or_create(account=account)
    objective = Objective(plan=plan, title=title.strip(), description=description, position=plan.objectives.count())
    objective.full_clean()
    objective.save()
    return objective


@transaction.atomic
def update_objective(objective: Objective, *, title: str, description: str = "") -> Objective:
    objective.title, objective.description = title.strip(), description
    objective.full_clean()
    objective.save(update_fields=["title", "description"])
    return objective


@transaction.atomic
def delete_objective(objective: Objective) -> None:
    """Remove the objective and its milestones (kept in the audit history)."""
    for milestone in objective.milestones.all():
        milestone.delete()
    objective.delete()


@transaction.atomic
def add_milestone(
    objective: Objective, *, title: str, due_on: date, metric: str = "", target: Decimal | None = None
) -> Milestone:
    milestone = Milestone(
        objective=objective,
        title=title.strip(),
        metric=metric,
        target=target,
        current=Decimal("0") if target is not None else None,
        due_on=due_on,
    )
    milestone.full_clean()
    milestone.save()
    return milestone


@transaction.atomic
def edit_milestone(
    milestone: Milestone, *, title: str, due_on: date, metric: str = "", target: Decimal | None = None
) -> Milestone:
    """Change what the milestone measures and when it is due (progress: ``update_milestone``)."""
    milestone.title, milestone.due_on, milestone.metric, milestone.target = title.strip(), due_on, metric, target
    if target is not None and milestone.current is None:
        milestone.current = Decimal("0")
    milestone.full_clean()
    milestone.save(update_fields=["title", "due_on", "metric", "target", "current"])
    return milestone


@transaction.atomic
def delete_milestone(milestone: Milestone) -> None:
    milestone.delete()


@transaction.atomic
def update_milestone(
    milestone: Milestone, *, current: Decimal | None, status: str, today: date, due_on: date | None = None
) -> Milestone:
    """Record progress; a milestone whose current value meets its target is reached."""
    if status not in Milestone.Status.values:
        raise ValidationError({"status": "Unknown status."})
    milestone.current = current
    if milestone.target is not None and current is not None and current >= milestone.target:
        status = Milestone.Status.REACHED
    if status == Milestone.Status.REACHED and milestone.reached_on is None:
        milestone.reached_on = today
    elif status != Milestone.Status.REACHED:
        milestone.reached_on = None
    milestone.status = status
    if due_on:
        milestone.due_on = due_on
    milestone.save(update_fields=["current", "status", "reached_on", "due_on"])
    return milestone


def success_plan_realization(account_ids: list[int] | None = None) -> dict[int, float]:
    """Share of milestones reached per account (docs/domain.md §3), for health and metrics.

    Accounts whose plan has no milestones are absent.
    """
    rows = Milestone.objects.all()
    if account_ids is not None:
        rows = rows.filter(objective__plan__account_id__in=account_ids)
    counts = (
        rows.values("objective__plan__account_id")
        .annotate(total=Count("pk"), reached=Count("pk", filter=Q(status=Milestone.Status.REACHED)))
        .order_by()
    )
    return {r["objective__plan__account_id"]: r["reached"] / r["total"] for r in counts}


# --- Entitlements and the service usage statement ------------------------------------------------

ENTITLEMENT_FIELDS: dict[str, str] = {
    EntitlementUse.Kind.BUSINESS_REVIEW: "business_reviews_per_year",
    EntitlementUse.Kind.TRAINING: "training_seats",
    EntitlementUse.Kind.SUCCESS_HOURS: "success_hours",
}


@transaction.atomic
def record_entitlement_use(
    account: Account, *, kind: str, quantity: Decimal, used_on: date, by: User | None, note: str = ""
) -> EntitlementUse:
    if kind not in EntitlementUse.Kind.values:
        raise ValidationError({"kind": "Unknown kind of service."})
    if quantity is None or quantity <= 0:
        raise ValidationError({"quantity": "Enter a quantity above zero."})
    return EntitlementUse.objects.create(
        account=account, kind=kind, quantity=quantity, used_on=used_on, by=by, note=note
    )


@dataclass
class StatementLine:
    kind: str
    label: str
    entitled: int | None
    used: Decimal
    times: int

    @property
    def remaining(self) -> Decimal | None:
        return None if self.entitled is None else Decimal(self.entitled) - self.used

    @property
    def over(self) -> bool:
        return self.entitled is not None and self.used > self.entitled


@dataclass(frozen=True)
class RecordedReview:
    """A business review the statement counts from where the CSM recorded it (no entitlement use entered)."""

    used_on: date
    source: str  # "Touchpoint: business review" | "Health check: quarterly business review"


@dataclass
class Statement:
    account: Account
    program: Program | None
    start: date
    end: date
    lines: list[StatementLine]
    uses: list[EntitlementUse] = field(default_factory=list)
    reviews: list[RecordedReview] = field(default_factory=list)


def recorded_reviews(account: Account, *, start: date, end: date, skip_days: set[date]) -> list[RecordedReview]:
    """Business reviews recorded as a touchpoint or a health-check review, one per day (docs/domain.md §9).

    The same meeting logged both ways, or also entered as an entitlement use (``skip_days``), is
    counted once: a day with a business review counts one review, whichever way it was recorded.
    """
    by_day: dict[date, RecordedReview] = {}
    for occurred_at in account.touchpoints.filter(
        kind=Touchpoint.Kind.BUSINESS_REVIEW, occurred_at__date__gte=start, occurred_at__date__lte=end
    ).values_list("occurred_at", flat=True):
        day = timezone.localtime(occurred_at).date()
        by_day.setdefault(day, RecordedReview(day, "Touchpoint: business review"))
    for held_on in account.health_checks.filter(
        kind=HealthCheck.Kind.BUSINESS_REVIEW, held_on__gte=start, held_on__lte=end
    ).values_list("held_on", flat=True):
        by_day.setdefault(held_on, RecordedReview(held_on, "Health check: quarterly business review"))
    return [review for day, review in sorted(by_day.items()) if day not in skip_days and start <= day <= end]


def contract_year(account: Account, *, today: date) -> tuple[date, date, bool]:
    """The current contract year: from the active term's start (or its latest anniversary) for a year.

    With no active contract, the last 365 days and False. The staff statement and the customer
    page both default to it, so entitlements count for the year they are included in.
    """
    contract = (
        Contract.objects.filter(account=account, status=Contract.Status.ACTIVE, starts_on__lte=today)
        .order_by("-starts_on")
        .first()
    )
    if contract is None:
        return today - timedelta(days=365), today, False
    years = relativedelta(today, contract.starts_on).years
    start = contract.starts_on + relativedelta(years=years)
    return start, start + relativedelta(years=1) - timedelta(days=1), True


def service_usage_statement(account: Account, *, start: date, end: date) -> Statement:
    """Services used in [start, end] against the program's yearly entitlements (docs/domain.md §9).

    Business reviews count the entitlement uses entered and, without entering them again, each
    business-review touchpoint and quarterly-business-review health check (one per day).
    """
    if end < start:
        raise ValidationError({"end": "The period ends before it starts."})
    uses = list(account.entitlement_uses.between(start, end).select_related("by").order_by("used_on", "pk"))
    totals = {
        row["kind"]: row
        for row in account.entitlement_uses.between(start, end)
        .values("kind")
        .annotate(used=Sum("quantity"), times=Count("pk"))
        .order_by()
    }
    reviews = recorded_reviews(
        account,
        start=start,
        end=end,
        skip_days={use.used_on for use in uses if use.kind == EntitlementUse.Kind.BUSINESS_REVIEW},
    )
    program = account.program
    lines = []
    for kind, label in EntitlementUse.Kind.choices:
        entitled = getattr(program, ENTITLEMENT_FIELDS[kind]) if program and kind in ENTITLEMENT_FIELDS else None
        row = totals.get(kind, {"used": Decimal("0"), "times": 0})
        used, times = row["used"], row["times"]
        if kind == EntitlementUse.Kind.BUSINESS_REVIEW:
            used, times = used + len(reviews), times + len(reviews)
        lines.append(StatementLine(kind=kind, label=label, entitled=entitled, used=used, times=times))
    return Statement(account=account, program=program, start=start, end=end, lines=lines, uses=uses, reviews=reviews)


def account_panels(account: Account, *, today: date) -> dict:
    """Context for the playbooks partials on the account page (templates/playbooks/_*_panel.html)."""
    plan = SuccessPlan.objects.filter(account=account).first()
    objectives = list(plan.objectives.prefetch_related("milestones")) if plan else []
    year_start = today - timedelta(days=365)
    return {
        "onboarding_items": list(account.onboarding_items.select_related("owner")),
        "onboarding": onboarding_progress(account, today=today),
        "success_plan": plan,
        "objectives": objectives,
        "realization": plan.realization() if plan else None,
        "statement": service_usage_statement(account, start=year_start, end=today),
        "open_tasks": list(account.tasks.open().select_related("assignee", "rule").order_by("due_on", "pk")[:10]),
        "today": today,
    }
