"""The nightly formula as set-based SQL, generated for SQLite and PostgreSQL from the same specs
as `health.scoring` (a test holds the two to identical results).
"""

from django.db import connection

from accounts.models import (
    STAGE_CODES,
    Account,
    HealthCheck,
    HealthScore,
    Program,
    Touchpoint,
    UsageSnapshot,
)
from playbooks.models import Milestone, OnboardingItem
from renewals.models import Contract, Renewal

from .scoring import (
    DEFAULT_CHECK_CADENCE_DAYS,
    KINDS,
    NO_RENEWAL_POINTS,
    STAGE_POINTS,
    TREND_CAP,
    Kind,
    ModelSpec,
)


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


def chunk_sql(specs: list[ModelSpec], by_program: dict[int, int]) -> str:
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


def clear_sql() -> str:
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
