"""The health formula in Python: component specs, normalisation, the weighted mean, and one
account's inputs gathered through the ORM (the explanation, tests and the naive baseline).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Max
from django.utils import timezone

from accounts.models import (
    Account,
    HealthCheck,
    HealthComponent,
    HealthModel,
    HealthScore,
    Touchpoint,
    UsageSnapshot,
)
from playbooks.models import Milestone, OnboardingItem
from renewals.models import Contract, Renewal

KINDS: tuple[str, ...] = tuple(HealthComponent.Kind.values)
Kind = HealthComponent.Kind
BAND_RANK = HealthScore.BAND_RANK
QUALITY_WINDOW_DAYS = 90
DEFAULT_CHECK_CADENCE_DAYS = 90
# Commercial input (0 to 100): points for the renewal stage, moved by the revenue trend
# against the previous term (clamped to +/- TREND_CAP percentage points).
STAGE_POINTS: dict[str, int] = {
    Renewal.Stage.UPCOMING: 60,
    Renewal.Stage.NOTIFIED: 60,
    Renewal.Stage.IN_DISCUSSION: 50,
    Renewal.Stage.COMMITTED: 90,
    Renewal.Stage.RENEWED: 100,
    Renewal.Stage.EXPANDED: 100,
    Renewal.Stage.DOWNGRADED: 30,
    Renewal.Stage.LOST: 0,
}
NO_RENEWAL_POINTS = 60
TREND_CAP = 30.0


@dataclass(frozen=True)
class Spec:
    """One component of a health model, as plain numbers."""

    kind: str
    weight: float
    worst: float
    best: float


@dataclass(frozen=True)
class ModelSpec:
    model_id: int | None
    green_min: int
    yellow_min: int
    drop_alert: int
    components: dict[str, Spec]

    def band(self, score: int) -> str:
        return HealthScore.band_of(score, green_min=self.green_min, yellow_min=self.yellow_min)

    @classmethod
    def of(cls, model: HealthModel) -> "ModelSpec":
        components = {c.kind: c for c in model.components.all()}
        return cls(
            model_id=model.pk,
            green_min=model.green_min,
            yellow_min=model.yellow_min,
            drop_alert=model.drop_alert_points,
            components={
                kind: Spec(kind, float(c.weight), float(c.worst), float(c.best))
                if (c := components.get(kind))
                else Spec(kind, 0.0, 0.0, 1.0)
                for kind in KINDS
            },
        )


def normalize(value: float | None, *, worst: float, best: float) -> float | None:
    """Map an input onto 0 to 100: ``worst`` scores 0, ``best`` 100, linear between, clamped."""
    if value is None:
        return None
    t = (value - worst) / (best - worst)
    if t <= 0:
        return 0.0
    if t >= 1:
        return 100.0
    return 100.0 * t


@dataclass
class Result:
    score: int | None
    components: dict[str, dict] = field(default_factory=dict)


def score_inputs(inputs: dict[str, float | None], spec: ModelSpec) -> Result:
    """The health score of one account's inputs: a weighted mean of the present components.

    The arithmetic (order of operations included) matches the SQL in ``chunk_sql`` so that both
    give the same floating-point results.
    """
    scores = {}
    present_weight = 0.0
    weighted = 0.0
    for kind in KINDS:
        component = spec.components[kind]
        value = inputs.get(kind)
        s = None if component.weight == 0 else normalize(value, worst=component.worst, best=component.best)
        scores[kind] = s
        present_weight = present_weight + (0.0 if s is None else component.weight)
        weighted = weighted + (0.0 if s is None else s * component.weight)
    if present_weight == 0:
        return Result(score=None)
    score = math.floor(weighted / present_weight + 0.5)
    components = {}
    for kind in KINDS:
        component, s = spec.components[kind], scores[kind]
        components[kind] = {
            "input": inputs.get(kind),
            "score": s,
            "base": component.weight,
            "weight": 0.0 if s is None else 100.0 * component.weight / present_weight,
            "contribution": 0.0 if s is None else s * component.weight / present_weight,
        }
    return Result(score=score, components=components)


def commercial_input(*, stage: str | None, amount: float | None, previous_amount: float | None) -> float:
    points = float(STAGE_POINTS.get(stage, NO_RENEWAL_POINTS)) if stage else float(NO_RENEWAL_POINTS)
    trend = 0.0
    if previous_amount is not None and previous_amount > 0 and amount is not None:
        trend = 100.0 * (amount - previous_amount) / previous_amount
    trend = max(-TREND_CAP, min(TREND_CAP, trend))
    value = points + trend
    return max(0.0, min(100.0, value))


# --- Inputs of one account, through the ORM (the explanation, tests and the naive baseline) ---


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of the quality window and the first instant after ``day``, local time."""
    tz = timezone.get_current_timezone()
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    start = timezone.make_aware(datetime.combine(day - timedelta(days=QUALITY_WINDOW_DAYS - 1), time.min), tz)
    return start, end


@dataclass
class Inputs:
    values: dict[str, float | None]
    details: dict[str, dict]
    check_overdue: bool


def gather_inputs(account: Account, *, day: date) -> Inputs:
    """Read one account's health inputs as of ``day`` with ordinary queries."""
    values: dict[str, float | None] = dict.fromkeys(KINDS)
    details: dict[str, dict] = {}
    usage = UsageSnapshot.objects.filter(account=account, date__lte=day).order_by("-date").first()
    if usage:
        if usage.licenses_purchased > 0:
            values[Kind.ADOPTION] = 100.0 * float(usage.licenses_active) / usage.licenses_purchased
        details[Kind.ADOPTION] = {"n": usage.licenses_active, "d": usage.licenses_purchased}
        users = usage.basic_users + usage.advanced_users
        if users > 0:
            values[Kind.FEATURE_DEPTH] = 100.0 * float(usage.advanced_users) / users
        details[Kind.FEATURE_DEPTH] = {"n": usage.advanced_users, "d": users}
        values[Kind.SUPPORT] = float(usage.open_support_cases + 2 * usage.escalations)
        details[Kind.SUPPORT] = {"n": usage.open_support_cases, "d": usage.escalations}
        if usage.availability_pct is not None:
            values[Kind.AVAILABILITY] = float(usage.availability_pct)
    window_start, day_end = day_bounds(day)
    touches = Touchpoint.objects.filter(account=account, occurred_at__lt=day_end)
    last = touches.aggregate(last=Max("occurred_at"))["last"]
    if last is not None:
        values[Kind.ENGAGEMENT_RECENCY] = float((day - timezone.localdate(last)).days)
    recent = touches.filter(occurred_at__gte=window_start)
    total = recent.count()
    positive = recent.filter(outcome=Touchpoint.Outcome.POSITIVE).count()
    if total:
        values[Kind.ENGAGEMENT_QUALITY] = 100.0 * float(positive) / total
    details[Kind.ENGAGEMENT_QUALITY] = {"n": positive, "d": total}
    items = OnboardingItem.objects.filter(account=account)
    item_count = items.count()
    if item_count:
        done = items.filter(completed_on__lte=day).count()
        values[Kind.ONBOARDING] = 100.0 * float(done) / item_count
        details[Kind.ONBOARDING] = {"n": done, "d": item_count}
    milestones = Milestone.objects.filter(objective__plan__account=account)
    milestone_count = milestones.count()
    if milestone_count:
        reached = sum(
            1
            for status, reached_on in milestones.values_list("status", "reached_on")
            if status == Milestone.Status.REACHED and (reached_on is None or reached_on <= day)
        )
        values[Kind.SUCCESS_PLAN] = 100.0 * float(reached) / milestone_count
        details[Kind.SUCCESS_PLAN] = {"n": reached, "d": milestone_count}
    check = HealthCheck.objects.filter(account=account, held_on__lte=day).order_by("-held_on", "-pk").first()
    if check:
        values[Kind.SENTIMENT] = float(check.sentiment)
    contracts = sorted(
        Contract.objects.filter(account=account),
        key=lambda c: (c.starts_on <= day, c.starts_on, c.pk),
        reverse=True,
    )
    if contracts:
        term = contracts[0]
        renewal = Renewal.objects.filter(contract=term).first()
        stage = _stage_as_of(renewal, term, day)
        previous = Contract.objects.filter(pk=term.previous_id).first() if term.previous_id else None
        previous_amount = float(previous.recurring_amount) if previous else None
        values[Kind.COMMERCIAL] = commercial_input(
            stage=stage, amount=float(term.recurring_amount), previous_amount=previous_amount
        )
        trend = None
        if previous_amount:
            trend = 100.0 * (float(term.recurring_amount) - previous_amount) / previous_amount
        details[Kind.COMMERCIAL] = {"stage": stage, "trend": trend}
    cadence = account.program.health_check_cadence_days if account.program else DEFAULT_CHECK_CADENCE_DAYS
    since = check.held_on if check else timezone.localdate(account.created_at)
    return Inputs(values=values, details=details, check_overdue=(day - since).days > cadence)


def _stage_as_of(renewal: Renewal | None, term: Contract, day: date) -> str | None:
    """The renewal stage as it stood on ``day``: a close after that day was not known yet."""
    if renewal is None:
        return None
    if renewal.stage in Renewal.CLOSED_STAGES and (renewal.closed_on or term.ends_on) > day:
        return None
    return renewal.stage


def model_specs() -> tuple[ModelSpec, dict[int | None, ModelSpec]]:
    """The default model and the models of programs that have their own, by program id."""
    default = ModelSpec.of(HealthModel.objects.default())
    by_program = {
        model.program_id: ModelSpec.of(model)
        for model in HealthModel.objects.filter(is_default=False).prefetch_related("components")
    }
    return default, by_program
