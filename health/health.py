"""Health: the score, its nightly recalculation, its explanation and its calibration.

The score is a weighted mean of component scores. Each component maps one input onto 0 to 100
between two admin-set thresholds (``worst`` scores 0, ``best`` 100, clamped). A missing input
(no usage data, no health check yet, ...) is left out and its weight is spread over the others;
it never counts as zero. ``score_inputs`` is the formula in Python; ``recalculate_health``
computes the same formula in set-based SQL over chunks of account ids, and a test holds the
two to identical results.
"""

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from accounts import signals
from accounts.models import (
    STAGE_CODES,
    Account,
    HealthCheck,
    HealthComponent,
    HealthModel,
    HealthScore,
    Program,
    Touchpoint,
    UsageSnapshot,
)
from csm import roles
from playbooks.models import Milestone, OnboardingItem
from renewals.models import Contract, Renewal, RevenueEntry

KINDS: tuple[str, ...] = tuple(HealthComponent.Kind.values)
Kind = HealthComponent.Kind
BAND_RANK = HealthScore.BAND_RANK
QUALITY_WINDOW_DAYS = 90
DEFAULT_CHECK_CADENCE_DAYS = 90
CHUNK_SIZE = 50_000
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


# --- The formula, in Python ------------------------------------------------------------------


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

    The arithmetic (order of operations included) matches the SQL in ``_chunk_sql`` so that both
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


def _day_bounds(day: date) -> tuple[datetime, datetime]:
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
    window_start, day_end = _day_bounds(day)
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


def model_specs() -> tuple[ModelSpec, dict[int, ModelSpec]]:
    """The default model and the models of programs that have their own, by program id."""
    default = ModelSpec.of(HealthModel.objects.default())
    by_program = {
        model.program_id: ModelSpec.of(model)
        for model in HealthModel.objects.filter(is_default=False).prefetch_related("components")
    }
    return default, by_program


# --- The nightly recalculation, in set-based SQL ----------------------------------------------


def _dialect() -> dict[str, str]:
    """The few SQL fragments that differ between PostgreSQL and SQLite."""
    if connection.vendor == "postgresql":
        return {
            "date": "CAST({} AS DATE)",
            "days_between": "({} - {})",
            "local_date": "CAST(({} AT TIME ZONE %(tz)s) AS DATE)",
            "round": "CAST(FLOOR({} + 0.5) AS INTEGER)",
            "array": "ARRAY[{}]",
        }
    return {
        "date": "{}",
        "days_between": "CAST(julianday({}) - julianday({}) AS INTEGER)",
        "local_date": "django_datetime_cast_date({}, %(tz)s, %(conn_tz)s)",
        # Scores are never negative, so truncation is the floor.
        "round": "CAST({} + 0.5 AS INTEGER)",
        "array": "json_array({})",
    }


def _dp(expression: str | float) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


def _normalized(kind: str) -> str:
    """Clamp the component's position between its thresholds onto 0 to 100 (see ``normalize``)."""
    t = f"r.t_{kind}"
    return (
        f"CASE WHEN {t} IS NULL THEN NULL WHEN {t} <= 0 THEN {_dp('0')} "
        f"WHEN {t} >= 1 THEN {_dp('100')} ELSE {_dp('100')} * {t} END"
    )


def _chunk_sql(specs: list[ModelSpec], by_program: dict[int, int]) -> str:
    d = _dialect()
    t = {
        "account": Account._meta.db_table,
        "usage": UsageSnapshot._meta.db_table,
        "touch": Touchpoint._meta.db_table,
        "item": OnboardingItem._meta.db_table,
        "plan": "playbooks_successplan",
        "objective": "playbooks_objective",
        "milestone": Milestone._meta.db_table,
        "check": HealthCheck._meta.db_table,
        "contract": Contract._meta.db_table,
        "renewal": Renewal._meta.db_table,
        "program": Program._meta.db_table,
        "score": HealthScore._meta.db_table,
    }
    day = d["date"].format("%(day)s")

    def days_since(expression: str) -> str:
        return d["days_between"].format(day, expression)

    columns = ["model_id", "green_min", "yellow_min", "drop_alert"]
    for kind in KINDS:
        columns += [f"w_{kind}", f"lo_{kind}", f"hi_{kind}"]
    rows = []
    for spec in specs:
        row = [
            f"CAST({spec.model_id} AS BIGINT)",
            f"CAST({spec.green_min} AS INTEGER)",
            f"CAST({spec.yellow_min} AS INTEGER)",
            f"CAST({spec.drop_alert} AS INTEGER)",
        ]
        for kind in KINDS:
            c = spec.components[kind]
            row += [_dp(repr(c.weight)), _dp(repr(c.worst)), _dp(repr(c.best))]
        rows.append(f"({', '.join(row)})")
    default_id = specs[0].model_id
    model_case = " ".join(
        f"WHEN a.program_id = {int(program)} THEN {int(model)}" for program, model in by_program.items()
    )
    model_expr = f"CASE {model_case} ELSE {default_id} END" if model_case else str(default_id)
    closed = ", ".join(f"'{stage}'" for stage in Renewal.CLOSED_STAGES)
    stage_points = " ".join(f"WHEN '{stage}' THEN {points}" for stage, points in STAGE_POINTS.items())
    in_range = "BETWEEN %(lo)s AND %(hi)s"

    ratios = ",\n    ".join(
        f"CASE WHEN p.w_{kind} = 0 THEN NULL "
        f"ELSE (i.{kind} - p.lo_{kind}) / (p.hi_{kind} - p.lo_{kind}) END AS t_{kind}"
        for kind in KINDS
    )
    normalized = ",\n    ".join(f"{_normalized(kind)} AS s_{kind}" for kind in KINDS)
    present = " + ".join(f"CASE WHEN s.s_{kind} IS NULL THEN {_dp('0')} ELSE s.w_{kind} END" for kind in KINDS)
    weighted = " + ".join(
        f"CASE WHEN s.s_{kind} IS NULL THEN {_dp('0')} ELSE s.s_{kind} * s.w_{kind} END" for kind in KINDS
    )
    details: dict[str, tuple[str, str]] = {
        Kind.ADOPTION: ("adoption_n", "adoption_d"),
        Kind.FEATURE_DEPTH: ("depth_n", "depth_d"),
        Kind.ONBOARDING: ("onboarding_n", "onboarding_d"),
        Kind.SUCCESS_PLAN: ("plan_n", "plan_d"),
        Kind.ENGAGEMENT_QUALITY: ("quality_n", "quality_d"),
        Kind.SUPPORT: ("cases", "escalations"),
    }
    # HealthScore.parts: for each kind, PART_FIELDS in order (see accounts.models.pack_parts).
    stage_codes = " ".join(f"WHEN '{stage}' THEN {code}" for code, stage in enumerate(STAGE_CODES))
    values = []
    for kind in KINDS:
        n, dd = details.get(kind, ("NULL", "NULL"))
        if kind == Kind.COMMERCIAL:
            n, dd = f"CASE t.stage {stage_codes} END", "t.trend"
        elif kind in details:
            n, dd = f"t.{n}", f"t.{dd}"
        values += [f"t.{kind}", f"t.s_{kind}", f"t.w_{kind}", n, dd]
    parts = d["array"].format(", ".join(_dp(value) for value in values))
    rounded = d["round"].format("t.weighted / t.present")

    # Only code constants and integers are interpolated; every value from outside is a parameter.
    return f"""
INSERT INTO {t["score"]} (account_id, day, model_id, score, band, previous_score, previous_band, score_drop,
                        band_worsened, flagged, check_overdue, parts)
WITH params({", ".join(columns)}) AS (VALUES {", ".join(rows)}),
acc AS (
  SELECT a.id AS account_id, {model_expr} AS model_id,
         COALESCE(pr.health_check_cadence_days, {DEFAULT_CHECK_CADENCE_DAYS}) AS cadence,
         {d["local_date"].format("a.created_at")} AS created_on
  FROM {t["account"]} a LEFT JOIN {t["program"]} pr ON pr.id = a.program_id
  WHERE a.id {in_range} AND a.lifecycle_stage <> 'churned'
),
usage_day AS (
  SELECT u.account_id, MAX(u.date) AS d FROM {t["usage"]} u
  WHERE u.account_id {in_range} AND u.date <= {day} GROUP BY u.account_id
),
usage AS (
  SELECT u.* FROM {t["usage"]} u JOIN usage_day ud ON ud.account_id = u.account_id AND ud.d = u.date
  WHERE u.account_id {in_range}
),
touch AS (
  SELECT tp.account_id, MAX(tp.occurred_at) AS last_at,
         SUM(CASE WHEN tp.occurred_at >= %(window_start)s THEN 1 ELSE 0 END) AS recent,
         SUM(CASE WHEN tp.occurred_at >= %(window_start)s AND tp.outcome = 'positive' THEN 1 ELSE 0 END) AS positive
  FROM {t["touch"]} tp WHERE tp.account_id {in_range} AND tp.occurred_at < %(day_end)s
  GROUP BY tp.account_id
),
onboarding AS (
  SELECT o.account_id, COUNT(*) AS total, SUM(CASE WHEN o.completed_on <= {day} THEN 1 ELSE 0 END) AS done
  FROM {t["item"]} o WHERE o.account_id {in_range} GROUP BY o.account_id
),
plan AS (
  SELECT sp.account_id, COUNT(*) AS total,
         SUM(CASE WHEN m.status = 'reached' AND (m.reached_on IS NULL OR m.reached_on <= {day})
             THEN 1 ELSE 0 END) AS reached
  FROM {t["plan"]} sp JOIN {t["objective"]} ob ON ob.plan_id = sp.id JOIN {t["milestone"]} m ON m.objective_id = ob.id
  WHERE sp.account_id {in_range} GROUP BY sp.account_id
),
checks AS (
  SELECT x.account_id, x.held_on, x.sentiment FROM (
    SELECT h.account_id, h.held_on, h.sentiment,
           ROW_NUMBER() OVER (PARTITION BY h.account_id ORDER BY h.held_on DESC, h.id DESC) AS rn
    FROM {t["check"]} h WHERE h.account_id {in_range} AND h.held_on <= {day}
  ) x WHERE x.rn = 1
),
term AS (
  SELECT x.* FROM (
    SELECT c.account_id, c.id AS contract_id, c.ends_on, c.recurring_amount AS amount, c.previous_id,
           ROW_NUMBER() OVER (PARTITION BY c.account_id ORDER BY CASE WHEN c.starts_on <= {day} THEN 1 ELSE 0 END DESC,
                              c.starts_on DESC, c.id DESC) AS rn
    FROM {t["contract"]} c
    WHERE c.account_id {in_range}
  ) x WHERE x.rn = 1
),
term_stage AS (
  -- The renewal of the chosen term only (by its contract id), not of every contract in range.
  SELECT tm.account_id, tm.amount, tm.previous_id,
         CASE WHEN r.stage IN ({closed}) AND COALESCE(r.closed_on, tm.ends_on) > {day} THEN NULL
              ELSE r.stage END AS stage
  FROM term tm LEFT JOIN {t["renewal"]} r ON r.contract_id = tm.contract_id
),
commercial AS (
  SELECT ts.account_id, ts.stage,
         CASE WHEN ts.stage IS NULL THEN {NO_RENEWAL_POINTS}
              ELSE CASE ts.stage {stage_points} ELSE {NO_RENEWAL_POINTS} END
         END AS points,
         CASE WHEN prev.recurring_amount > 0
              THEN {_dp("100")} * ({_dp("ts.amount")} - {_dp("prev.recurring_amount")}) / {_dp("prev.recurring_amount")}
         END AS trend
  FROM term_stage ts LEFT JOIN {t["contract"]} prev ON prev.id = ts.previous_id
),
commercial_value AS (
  SELECT cm.account_id, cm.stage, cm.trend,
         {_dp("cm.points")} + CASE WHEN cm.trend IS NULL THEN {_dp("0")}
                                   WHEN cm.trend < -{TREND_CAP} THEN {_dp(-TREND_CAP)}
                                   WHEN cm.trend > {TREND_CAP} THEN {_dp(TREND_CAP)} ELSE cm.trend END AS raw
  FROM commercial cm
),
inputs AS MATERIALIZED (
  SELECT acc.account_id, acc.model_id, acc.cadence, acc.created_on,
    u.licenses_active AS adoption_n, u.licenses_purchased AS adoption_d,
    CASE WHEN u.licenses_purchased > 0 THEN {_dp("100")} * {_dp("u.licenses_active")} / u.licenses_purchased END
      AS {Kind.ADOPTION},
    u.advanced_users AS depth_n, u.basic_users + u.advanced_users AS depth_d,
    CASE WHEN u.basic_users + u.advanced_users > 0
         THEN {_dp("100")} * {_dp("u.advanced_users")} / (u.basic_users + u.advanced_users) END AS {Kind.FEATURE_DEPTH},
    ob.done AS onboarding_n, ob.total AS onboarding_d,
    CASE WHEN ob.total > 0 THEN {_dp("100")} * {_dp("ob.done")} / ob.total END AS {Kind.ONBOARDING},
    pl.reached AS plan_n, pl.total AS plan_d,
    CASE WHEN pl.total > 0 THEN {_dp("100")} * {_dp("pl.reached")} / pl.total END AS {Kind.SUCCESS_PLAN},
    {_dp(days_since(d["local_date"].format("tc.last_at")))} AS {Kind.ENGAGEMENT_RECENCY},
    COALESCE(tc.positive, 0) AS quality_n, COALESCE(tc.recent, 0) AS quality_d,
    CASE WHEN tc.recent > 0 THEN {_dp("100")} * {_dp("tc.positive")} / tc.recent END AS {Kind.ENGAGEMENT_QUALITY},
    u.open_support_cases AS cases, u.escalations AS escalations,
    {_dp("u.open_support_cases + 2 * u.escalations")} AS {Kind.SUPPORT},
    {_dp("u.availability_pct")} AS {Kind.AVAILABILITY},
    {_dp("ch.sentiment")} AS {Kind.SENTIMENT}, ch.held_on AS checked_on,
    CASE WHEN cv.raw IS NULL THEN NULL WHEN cv.raw < 0 THEN {_dp("0")}
         WHEN cv.raw > 100 THEN {_dp("100")} ELSE cv.raw END AS {Kind.COMMERCIAL},
    cv.stage, cv.trend
  FROM acc
  LEFT JOIN usage u ON u.account_id = acc.account_id
  LEFT JOIN touch tc ON tc.account_id = acc.account_id
  LEFT JOIN onboarding ob ON ob.account_id = acc.account_id
  LEFT JOIN plan pl ON pl.account_id = acc.account_id
  LEFT JOIN checks ch ON ch.account_id = acc.account_id
  LEFT JOIN commercial_value cv ON cv.account_id = acc.account_id
),
ratios AS (
  SELECT i.*, p.green_min, p.yellow_min, p.drop_alert,
    {", ".join(f"p.w_{kind}" for kind in KINDS)},
    {ratios}
  FROM inputs i JOIN params p ON p.model_id = i.model_id
),
scored AS MATERIALIZED (
  SELECT r.*,
    {normalized}
  FROM ratios r
),
totals AS (
  SELECT s.*, {present} AS present, {weighted} AS weighted FROM scored s
),
final AS (
  SELECT t.*, {rounded} AS score, {parts} AS parts
  FROM totals t WHERE t.present > 0
),
banded AS (
  SELECT f.account_id, f.model_id, f.score, f.parts, f.drop_alert,
    CASE WHEN f.score >= f.green_min THEN 'green' WHEN f.score >= f.yellow_min THEN 'yellow' ELSE 'red' END AS band,
    {days_since("COALESCE(f.checked_on, f.created_on)")} > f.cadence AS check_overdue
  FROM final f
),
previous AS (
  SELECT hs.account_id, hs.score, hs.band FROM {t["score"]} hs
  WHERE hs.day = {d["date"].format("%(previous_day)s")} AND hs.account_id {in_range}
)
SELECT b.account_id, {day}, b.model_id, b.score, b.band, pv.score, COALESCE(pv.band, ''), pv.score - b.score,
  {_worse("b.band", "pv.band")},
  {_worse("b.band", "pv.band")} OR COALESCE(pv.score - b.score > b.drop_alert, FALSE),
  b.check_overdue, b.parts
FROM banded b LEFT JOIN previous pv ON pv.account_id = b.account_id
"""  # noqa: S608


def _clear_sql() -> str:
    """Remove a chunk's rows for the day before they are written again (a rerun replaces them).

    Cheaper than ``INSERT ... ON CONFLICT DO UPDATE``, which probes the unique index once more per row.
    The unique (account, day) constraint still guarantees one row per account per day.
    """
    day = _dialect()["date"].format("%(day)s")
    return f"DELETE FROM {HealthScore._meta.db_table} WHERE day = {day} AND account_id BETWEEN %(lo)s AND %(hi)s"  # noqa: S608


def _worse(band: str, previous: str) -> str:
    def rank(expression: str) -> str:
        return f"CASE {expression} WHEN 'green' THEN 0 WHEN 'yellow' THEN 1 WHEN 'red' THEN 2 END"

    return f"COALESCE({rank(band)} > {rank(previous)}, FALSE)"


def recalculate_health(
    *, day: date, chunk_size: int = CHUNK_SIZE, notify: bool = True, workers: int | None = None
) -> int:
    """Score every active account as of ``day``; return the number of HealthScore rows written.

    Per chunk of account ids, whatever the chunk holds: one DELETE of the chunk's rows for the day
    and one INSERT ... SELECT. Recalculating a day replaces its rows, so running twice gives the
    same rows once. (Two runs of the same day at the same moment cannot both write: the second
    fails on the unique (account, day) constraint and leaves the first's rows.)
    Each chunk commits on its own: a crash midway leaves whole chunks, and a rerun completes them.
    On PostgreSQL, ``workers`` connections (default ``HEALTH_RECALC_WORKERS``, 2) take chunks in
    parallel; SQLite, or a caller inside a transaction, runs them one after another.
    """
    default, by_program = model_specs()
    specs = [default, *{spec.model_id: spec for spec in by_program.values()}.values()]
    sql = _chunk_sql(specs, {program: spec.model_id for program, spec in by_program.items()})
    clear = _clear_sql()
    window_start, day_end = _day_bounds(day)
    ops = connection.ops
    params = {
        "day": ops.adapt_datefield_value(day),
        "window_start": ops.adapt_datetimefield_value(window_start),
        "day_end": ops.adapt_datetimefield_value(day_end),
        "tz": settings.TIME_ZONE,
    }
    if connection.vendor == "sqlite":
        params["conn_tz"] = connection.timezone_name
    # "Since the previous calculation": the last day scored before this one, the same for every account.
    previous_day = HealthScore.objects.filter(day__lt=day).aggregate(d=Max("day"))["d"]
    params["previous_day"] = ops.adapt_datefield_value(previous_day or date.min)
    bounds = Account.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    starts = list(range(bounds["lo"], bounds["hi"] + 1, chunk_size))
    if workers is None:
        workers = getattr(settings, "HEALTH_RECALC_WORKERS", 2)
    # Other connections cannot see an open transaction's rows (tests), and SQLite has one writer.
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        workers = 1
    workers = max(1, min(workers, len(starts)))

    def run(batch: list[int]) -> int:
        written = 0
        for lo in batch:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # The chunk's sorts and hashes fit in memory instead of spilling to disk; JIT
                    # compilation costs more than it saves on a 50,000-row chunk (measured: about a
                    # quarter more CPU); and the chunk's commit need not wait for its WAL flush, since
                    # a chunk lost in a crash is recomputed by the rerun (the job's own JobRun row is
                    # committed synchronously afterwards, and WAL is flushed in order).
                    cursor.execute(
                        "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),"
                        " set_config('synchronous_commit', 'off', true)"
                    )
                bounds = {**params, "lo": lo, "hi": lo + chunk_size - 1}
                cursor.execute(clear, bounds)
                cursor.execute(sql, bounds)
                written += max(cursor.rowcount, 0)
        return written

    if workers == 1:
        written = run(starts)
    else:

        def in_thread(batch: list[int]) -> int:
            try:
                return run(batch)
            finally:
                connection.close()  # this thread's own connection

        with ThreadPoolExecutor(max_workers=workers) as pool:
            written = sum(pool.map(in_thread, [starts[i::workers] for i in range(workers)]))
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # A night's rows make the table's statistics stale until autovacuum gets to it; the
        # band-change read below and tomorrow's pages are planned on fresh ones (a sample: seconds).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {HealthScore._meta.db_table}")
    if notify:
        _send_band_changes(day=day)
    return written


@dataclass(frozen=True)
class BandChange:
    """One account's band change, as the ``health_bands_changed`` signal carries it."""

    account_id: int
    external_id: str
    name: str
    old_band: str
    new_band: str
    old_score: int | None
    new_score: int


BAND_CHANGE_BATCH = 2000


def _send_band_changes(*, day: date) -> None:
    """Tell receivers (webhooks) which accounts' band changed, in batches of ``BAND_CHANGE_BATCH``.

    The day's changes are read from the scores alone, and each batch's account names by primary
    key: the scores were just written, so the planner's statistics on them are stale, and a join
    planned on stale counts can loop over every account for every change.
    """
    if not signals.health_bands_changed.has_listeners():
        return
    changed = (
        HealthScore.objects.on(day)
        .exclude(previous_band="")
        .exclude(band=F("previous_band"))
        .order_by("account_id")
        .values_list("account_id", "previous_band", "band", "previous_score", "score")
    )
    batch: list[tuple] = []
    for row in changed.iterator(chunk_size=BAND_CHANGE_BATCH):
        batch.append(row)
        if len(batch) == BAND_CHANGE_BATCH:
            _send_band_change_batch(day, batch)
            batch = []
    if batch:
        _send_band_change_batch(day, batch)


def _send_band_change_batch(day: date, rows: list[tuple]) -> None:
    names = Account.objects.only("external_id", "name").in_bulk([row[0] for row in rows])
    changes = [
        BandChange(account_id, names[account_id].external_id, names[account_id].name, *rest)
        for account_id, *rest in rows
        if account_id in names
    ]
    signals.health_bands_changed.send(sender=HealthScore, day=day, changes=changes)


def recalculate_due(*, today: date, catch_up_days: int = 7) -> list[date]:
    """Recalculate every day due as of ``today`` (the beat entry point); return the days computed.

    A day is due when no finished run exists for it, back to the last finished run (at most
    ``catch_up_days``): a night the worker was down is filled in the next night.
    """
    from csm.models import JobRun
    from csm.services import run_job_once

    last = (
        JobRun.objects.filter(job="recalculate_health", status=JobRun.Status.DONE, day__lte=today)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    start = today if last is None else max(last + timedelta(days=1), today - timedelta(days=catch_up_days - 1))
    done = []
    day = start
    while day <= today:
        run = run_job_once(job="recalculate_health", day=day, work=lambda d=day: {"rows": recalculate_health(day=d)})
        if run is not None:
            done.append(day)
        day += timedelta(days=1)
    return done


# --- Health checks ----------------------------------------------------------------------------


@transaction.atomic
def record_health_check(
    *, account: Account, by: roles.User | None, held_on: date, sentiment: int, kind: str, notes: str = "", today: date
) -> HealthCheck:
    """Record a CSM's health check or account review; tonight's score reads its sentiment."""
    if held_on > today:
        raise ValidationError({"held_on": "A health check cannot be recorded ahead of the day it is held."})
    if sentiment not in HealthCheck.Sentiment.values:
        raise ValidationError({"sentiment": "Choose a sentiment from 1 (very negative) to 5 (very positive)."})
    if kind not in HealthCheck.Kind.values:
        raise ValidationError({"kind": "Choose a kind of check."})
    return HealthCheck.objects.create(
        account=account, by=by, held_on=held_on, sentiment=sentiment, kind=kind, notes=notes.strip()
    )


def check_due_on(account: Account) -> date | None:
    """When the next health check is due under the account's program cadence (None if never held)."""
    last = account.health_checks.order_by("-held_on").values_list("held_on", flat=True).first()
    if last is None:
        return None
    cadence = account.program.health_check_cadence_days if account.program else DEFAULT_CHECK_CADENCE_DAYS
    return last + timedelta(days=cadence)


# --- Explanation --------------------------------------------------------------------------------

LABELS: dict[str, str] = {
    Kind.ADOPTION: "Adoption",
    Kind.FEATURE_DEPTH: "Feature depth",
    Kind.ONBOARDING: "Onboarding",
    Kind.SUCCESS_PLAN: "Success plan",
    Kind.ENGAGEMENT_RECENCY: "Engagement recency",
    Kind.ENGAGEMENT_QUALITY: "Engagement quality",
    Kind.SUPPORT: "Support",
    Kind.AVAILABILITY: "Availability",
    Kind.SENTIMENT: "CSM sentiment",
    Kind.COMMERCIAL: "Commercial",
}
MISSING: dict[str, str] = {
    Kind.ADOPTION: "no usage data (or no licenses purchased)",
    Kind.FEATURE_DEPTH: "no active users recorded",
    Kind.ONBOARDING: "no onboarding checklist",
    Kind.SUCCESS_PLAN: "no success-plan milestones",
    Kind.ENGAGEMENT_RECENCY: "no touchpoint logged yet",
    Kind.ENGAGEMENT_QUALITY: "no touchpoints in the last 90 days",
    Kind.SUPPORT: "no usage data",
    Kind.AVAILABILITY: "no availability data",
    Kind.SENTIMENT: "no health check recorded yet",
    Kind.COMMERCIAL: "no contract",
}


def describe(kind: str, part: dict) -> str:
    """The input of one component in words, e.g. "4 of 25 licenses active"."""
    value, n, d = part.get("input"), part.get("n"), part.get("d")
    if value is None:
        return MISSING[kind]
    match kind:
        case Kind.ADOPTION:
            return f"{n} of {d} licenses active"
        case Kind.FEATURE_DEPTH:
            return f"{n} of {d} users advanced"
        case Kind.ONBOARDING:
            return f"{n} of {d} onboarding steps done"
        case Kind.SUCCESS_PLAN:
            return f"{n} of {d} milestones reached"
        case Kind.ENGAGEMENT_RECENCY:
            days = round(value)
            return "touchpoint today" if days == 0 else f"last touchpoint {days} day{'s' if days != 1 else ''} ago"
        case Kind.ENGAGEMENT_QUALITY:
            return f"{n} of {d} touchpoints positive (90 days)"
        case Kind.SUPPORT:
            return f"{n} open case{'s' if n != 1 else ''}, {d} escalation{'s' if d != 1 else ''}"
        case Kind.AVAILABILITY:
            return f"{value:.2f}% available"
        case Kind.SENTIMENT:
            return f"latest check {HealthCheck.Sentiment(round(value)).label.lower()}"
        case Kind.COMMERCIAL:
            stage = part.get("stage")
            text = f"renewal {Renewal.Stage(stage).label.lower()}" if stage else "renewal not started"
            trend = part.get("trend")
            if trend is not None:
                text += f", revenue {trend:+.0f}% vs previous term"
            return text
    return f"{value:g}"


@dataclass
class Line:
    kind: str
    label: str
    missing: bool
    text: str
    score: float | None
    weight: float
    contribution: float
    delta: int | None
    change: str


def _signed(points: int) -> str:
    return f"+{points}" if points > 0 else f"\u2212{-points}" if points < 0 else "\u00b10"


def explain(current: HealthScore, previous: HealthScore | None = None) -> list[Line]:
    """Each component's part in the score, biggest first, and what changed since ``previous``.

    ``delta`` is the change in the component's contribution, in score points.
    """
    lines = []
    before = previous.components if previous else {}
    for kind in KINDS:
        part = current.components.get(kind)
        if not part or not part.get("base"):
            continue
        old = before.get(kind)
        delta, change = None, ""
        if old is not None and old.get("base"):
            delta = round(part["contribution"]) - round(old["contribution"])
            now_text, old_text = describe(kind, part), describe(kind, old)
            if delta or now_text != old_text:
                change = f"{LABELS[kind]} {_signed(delta)}: {now_text}"
                if now_text != old_text:
                    change += f" (was {old_text})"
        lines.append(
            Line(
                kind=kind,
                label=LABELS[kind],
                missing=part.get("input") is None,
                text=describe(kind, part),
                score=part.get("score"),
                weight=part["weight"],
                contribution=part["contribution"],
                delta=delta,
                change=change,
            )
        )
    lines.sort(key=lambda line: (line.missing, -line.contribution))
    return lines


def panel_context(account: Account, *, today: date, weeks: int = 26) -> dict:
    """What the account page's health panel shows: score, band, trend, breakdown, check status."""
    recent = HealthScore.objects.filter(account=account, day__lte=today, day__gt=today - timedelta(weeks=weeks))
    rows = list(recent.select_related("model").order_by("-day"))
    current = rows[0] if rows else None
    previous = rows[1] if len(rows) > 1 else None
    lines = explain(current, previous) if current else []
    last_check = account.health_checks.select_related("by").first()
    due_on = check_due_on(account)
    model = (current.model if current else None) or HealthModel.objects.default()
    chart = {
        "points": [{"day": row.day.isoformat(), "score": row.score, "band": row.band} for row in reversed(rows)],
        "green": model.green_min,
        "yellow": model.yellow_min,
    }
    return {
        "health": {
            "current": current,
            "previous": previous,
            "lines": lines,
            "changes": [line for line in lines if line.change],
            "missing": [line for line in lines if line.missing],
            "chart_json": json.dumps(chart),
            "model": model,
            "change": _signed(current.score - previous.score) if current and previous else "",
            "last_check": last_check,
            "check_due_on": due_on,
            "check_overdue": due_on is None or due_on < today,
            "today": today,
        }
    }


# --- Calibration ----------------------------------------------------------------------------------

HORIZONS = (90, 180)
# Each horizon reads an account's latest score in this many days up to its snapshot day.
SNAPSHOT_DAYS = 14
# The oldest row calibration reads is this many days old: its component separation needs the
# row's parts, so the retention job keeps parts at least this long (retention.services).
CALIBRATION_READS_DAYS = max(HORIZONS) + SNAPSHOT_DAYS
OUTCOME_STAGES = (Renewal.Stage.LOST, Renewal.Stage.DOWNGRADED)
OUTCOME_KINDS = (RevenueEntry.Kind.CHURN, RevenueEntry.Kind.CONTRACTION)
# Below this many accounts, a band's rate swings with every single outcome: the page says so.
FEW_ACCOUNTS = 30
# Distance of the AUC from a coin toss, and the word for it.
SEPARATION_WORDS = ((0.2, "strong"), (0.1, "moderate"), (0.03, "weak"), (0.0, "none"))


def _outcome_dates(account_ids: Iterable[int] | None, since: date) -> dict[int, list[date]]:
    """Days each account churned or contracted after ``since``: revenue-ledger losses and lost or
    downgraded renewals (closed on, or else the contract's end)."""
    events: dict[int, set[date]] = defaultdict(set)
    entries = RevenueEntry.objects.filter(kind__in=OUTCOME_KINDS, effective_on__gt=since)
    renewals = Renewal.objects.filter(stage__in=OUTCOME_STAGES).select_related("contract")
    if account_ids is not None:
        entries = entries.filter(account_id__in=account_ids)
        renewals = renewals.filter(contract__account_id__in=account_ids)
    for account_id, day in entries.values_list("account_id", "effective_on"):
        events[account_id].add(day)
    for account_id, closed_on, ends_on in renewals.values_list(
        "contract__account_id", "closed_on", "contract__ends_on"
    ):
        day = closed_on or ends_on
        if day > since:
            events[account_id].add(day)
    return {account_id: sorted(days) for account_id, days in events.items()}


def _auc(lost: list[float], kept: list[float]) -> float | None:
    """The chance that a renewer's component score beats a churner's (ties count half)."""
    if not lost or not kept:
        return None
    ranked = sorted([(v, 0) for v in lost] + [(v, 1) for v in kept])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + j + 1) / 2
        rank_sum += average_rank * sum(1 for _, kept_flag in ranked[i:j] if kept_flag)
        i = j
    n_kept = len(kept)
    return (rank_sum - n_kept * (n_kept + 1) / 2) / (n_kept * len(lost))


def _snapshots(accounts: "Iterator | object", as_of: date) -> dict[int, HealthScore]:
    """Each account's latest score in the fortnight up to ``as_of``.

    Bounded by day on both sides, so the cost follows the window, not the length of history; on
    PostgreSQL ``DISTINCT ON`` sends one row per account instead of up to fourteen.
    """
    rows = HealthScore.objects.filter(
        account__in=accounts, day__lte=as_of, day__gt=as_of - timedelta(days=SNAPSHOT_DAYS)
    ).only("account_id", "day", "band", "score", "parts")
    if connection.vendor == "postgresql":
        rows = rows.order_by("account_id", "-day").distinct("account_id")
    else:
        rows = rows.order_by("account_id", "day")  # the last row per account wins below
    return {row.account_id: row for row in rows.iterator(chunk_size=5000)}


def calibration_report(*, user: roles.User, today: date) -> list[dict]:
    """``compute_calibration_report``, cached per user and day: its inputs are at least 90 days old,
    so a day's report does not change with the day's writes (CALIBRATION_CACHE_SECONDS)."""
    key = f"health:calibration:{user.pk}:{today.isoformat()}"
    return cache.get_or_set(
        key, lambda: compute_calibration_report(user=user, today=today), settings.CALIBRATION_CACHE_SECONDS
    )


def compute_calibration_report(*, user: roles.User, today: date) -> list[dict]:
    """For each horizon: per band, the share of accounts that churned or contracted within it after
    their score, and how well each component separated those accounts from the rest.

    One snapshot per account per horizon (its score about ``horizon`` days ago), so that every
    outcome window has fully passed and no account counts twice.
    """
    accounts = Account.objects.visible_to(user).values("pk")
    report = []
    for horizon in HORIZONS:
        as_of = today - timedelta(days=horizon)
        snapshots = _snapshots(accounts, as_of)
        outcomes = _outcome_dates(list(snapshots) if len(snapshots) < 5000 else None, as_of - timedelta(days=14))
        bands: dict[str, dict[str, Any]] = {
            band: {"band": band, "label": label, "n": 0, "lost": 0} for band, label in HealthScore.Band.choices
        }
        by_component: dict[str, tuple[list[float], list[float]]] = {kind: ([], []) for kind in KINDS}
        for account_id, row in snapshots.items():
            lost = any(row.day < event <= row.day + timedelta(days=horizon) for event in outcomes.get(account_id, ()))
            cell = bands[row.band]
            cell["n"] += 1
            cell["lost"] += lost
            components = row.components  # unpacked once per row, not once per kind
            for kind in KINDS:
                part = components.get(kind) or {}
                if part.get("score") is not None and part.get("base"):
                    by_component[kind][0 if lost else 1].append(part["score"])
        for cell in bands.values():
            cell["rate"] = 100.0 * cell["lost"] / cell["n"] if cell["n"] else None
            cell["few"] = 0 < cell["n"] < FEW_ACCOUNTS
        total_n = sum(cell["n"] for cell in bands.values())
        total_lost = sum(cell["lost"] for cell in bands.values())
        components = []
        for kind, (lost_scores, kept_scores) in by_component.items():
            auc = _auc(lost_scores, kept_scores)
            components.append(
                {
                    "kind": kind,
                    "label": LABELS[kind],
                    "lost_mean": sum(lost_scores) / len(lost_scores) if lost_scores else None,
                    "kept_mean": sum(kept_scores) / len(kept_scores) if kept_scores else None,
                    "lost_n": len(lost_scores),
                    "kept_n": len(kept_scores),
                    "auc": auc,
                    "separation": separation_label(auc),
                }
            )
        components.sort(key=lambda c: -1 if c["auc"] is None else abs(c["auc"] - 0.5), reverse=True)
        green, red = bands[HealthScore.Band.GREEN]["rate"], bands[HealthScore.Band.RED]["rate"]
        report.append(
            {
                "horizon": horizon,
                "as_of": as_of,
                "bands": list(bands.values()),
                "n": total_n,
                "lost": total_lost,
                "rate": 100.0 * total_lost / total_n if total_n else None,
                # How many times as often red accounts were lost as green ones: the score's headline.
                "lift": red / green if red is not None and green else None,
                "components": components,
                "chart_id": f"calibration-{horizon}",
                "chart": [{k: cell[k] for k in ("band", "label", "rate", "n", "lost")} for cell in bands.values()],
            }
        )
    return report


def separation_label(auc: float | None) -> str:
    """Words for a component's AUC, for readers who do not think in AUC."""
    if auc is None:
        return "not enough data"
    distance = abs(auc - 0.5)
    strength = next(word for floor, word in SEPARATION_WORDS if distance >= floor)
    if strength != "none" and auc < 0.5:
        return f"{strength}, wrong way"
    return strength
