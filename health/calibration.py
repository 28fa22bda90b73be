"""Calibration: does the score predict churn? Separation (AUC) of the bands against outcomes at
90 and 180 days.
"""

from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction

from accounts.models import PART_FIELDS, PART_KINDS, Account, HealthScore, visible_owner_ids
from csm import roles
from renewals.models import Contract, Renewal, RevenueEntry

from .explain import LABELS
from .models import CalibrationCell, CalibrationSnapshot
from .scoring import KINDS

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
# Component scores are compared in steps of this many points: two scores closer than that count as
# a tie in the AUC (exact for scores with two decimals or fewer; the page shows whole percents).
# The steps bound the groups the database keeps per component, whatever the number of accounts.
SCORE_STEP = 0.01
# Distance of the AUC from a coin toss, and the word for it.
SEPARATION_WORDS = ((0.2, "strong"), (0.1, "moderate"), (0.03, "weak"), (0.0, "none"))


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


def _part_sql(parts: str, kind_index: str, field: str) -> str:
    """One number of a stored ``parts`` array in SQL: ``field`` of the kind at ``kind_index`` (a SQL
    integer expression). The layout is ``accounts.models.PART_KINDS`` x ``PART_FIELDS``; this is the
    one place calibration's SQL knows it (PostgreSQL: ``double precision[]``, SQLite: JSON text)."""
    offset = f"{kind_index} * {len(PART_FIELDS)} + {PART_FIELDS.index(field)}"
    if connection.vendor == "postgresql":
        return f"{parts}[{offset} + 1]"
    return f"json_extract({parts}, '$[' || ({offset}) || ']')"


def _plus_days(day: str, days: int) -> str:
    if connection.vendor == "postgresql":
        return f"({day} + {int(days)})"
    return f"date({day}, '+{int(days)} days')"


def _named(sql: str, params: tuple) -> tuple[str, dict[str, Any]]:
    """A compiled subquery with named parameters, so that one statement can use it twice."""
    pieces = sql.split("%s")
    named = {f"visible_{i}": value for i, value in enumerate(params)}
    return "".join(p + (f"%(visible_{i})s" if i < len(params) else "") for i, p in enumerate(pieces)), named


def _fence() -> str:
    """Keeps the planner from merging a subquery into the one above it (a no-op limit)."""
    return "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"


def _bin(score: str) -> str:
    """The score's step of ``SCORE_STEP`` (scores are never negative, so truncation is the floor)."""
    scaled = f"{score} * {round(1 / SCORE_STEP)} + 0.5"
    return f"FLOOR({scaled})" if connection.vendor == "postgresql" else f"CAST({scaled} AS INTEGER)"


# The end of the statement, after a ``counts`` (kind, bin, lost_n, kept_n, lost_sum, kept_sum) with one
# row per kind and step: the bands' counts, and per component the Mann-Whitney count from a running
# count of the lost accounts below each step.
RANKED = """, ranked AS (
  SELECT counts.*, SUM(lost_n) OVER (PARTITION BY kind ORDER BY bin) - lost_n AS below FROM counts
)
SELECT kind, CASE WHEN kind < 0 THEN bin END AS band_rank, SUM(lost_n), SUM(kept_n),
       SUM(lost_sum), SUM(kept_sum), SUM(kept_n * (2 * below + lost_n))
FROM ranked GROUP BY kind, CASE WHEN kind < 0 THEN bin END"""


def _horizon_sql(accounts_sql: str, horizon: int, *, by_owner: bool = False) -> str:
    """One statement for one horizon: each visible account's snapshot (its latest score in the
    fortnight up to the snapshot day), whether it was lost within the horizon after it, and the
    counts the report needs, grouped in the database:

    - kind -1: accounts per band (``value`` is the band's rank) and outcome;
    - kind k >= 0 (``PART_KINDS[k]``): per component, accounts lost and kept with a score, the sums
      of their scores, and ``wins2``: twice the number of (kept, lost) pairs where the kept account
      scored higher, ties counting one (the Mann-Whitney U from a histogram of the scores in steps
      of ``SCORE_STEP``, with a running count of the lost accounts below each step).

    Snapshots: the latest scored day in the window is read through the (day, account) index; only
    accounts without a row that day (scored later than the others, or not that night) look further
    back, one index probe each. So the cost follows the accounts and the window, not the history.

    ``by_owner`` (the nightly snapshot, ``take_snapshot``): the statement ends at ``counts``, kept
    per owner of the account (``owner_id, kind, bin, lost_n, kept_n, lost_sum, kept_sum``), for
    the snapshot to add up per viewer scope.
    """
    score, base = (_part_sql("s.parts", "k.i", field) for field in ("score", "base"))
    band_rank = " ".join(f"WHEN '{band}' THEN {rank}" for band, rank in HealthScore.BAND_RANK.items())
    kinds = " UNION ALL ".join(f"SELECT {PART_KINDS.index(kind)} AS i" for kind in KINDS)
    outcome_kinds = ", ".join(f"'{kind}'" for kind in OUTCOME_KINDS)
    outcome_stages = ", ".join(f"'{stage}'" for stage in OUTCOME_STAGES)
    t = {
        "score": HealthScore._meta.db_table,
        "account": Account._meta.db_table,
        "entry": RevenueEntry._meta.db_table,
        "renewal": Renewal._meta.db_table,
        "contract": Contract._meta.db_table,
    }
    window = 'h."day" <= %(as_of)s AND h."day" > %(first)s'
    snapshot_day = "COALESCE(m.day, w.day)"
    owner_col, owner_join, owner_group = (
        (", a.owner_id", f'JOIN "{t["account"]}" a ON a.id = h.account_id', "owner_id, ") if by_owner else ("", "", "")
    )
    per_owner = "\nSELECT owner_id, kind, bin, lost_n, kept_n, lost_sum, kept_sum FROM counts"
    tail = per_owner if by_owner else RANKED
    return f"""
WITH window_day AS (
  SELECT MAX(h."day") AS day FROM "{t["score"]}" h WHERE {window}
), missing AS (
  SELECT a.id AS account_id,
         (SELECT MAX(h."day") FROM "{t["score"]}" h WHERE h.account_id = a.id AND {window}) AS day
  FROM "{t["account"]}" a
  WHERE a.id IN ({accounts_sql})
    AND NOT EXISTS (SELECT 1 FROM "{t["score"]}" h2, window_day w WHERE h2.account_id = a.id AND h2."day" = w.day)
), snap AS (
  SELECT h.account_id, h.band, h.parts{owner_col} FROM "{t["score"]}" h {owner_join}, window_day w
  WHERE h."day" = w.day AND h.account_id IN ({accounts_sql})
  UNION ALL
  SELECT h.account_id, h.band, h.parts{owner_col}
  FROM missing m JOIN "{t["score"]}" h ON h.account_id = m.account_id AND h."day" = m.day {owner_join}
), events AS (
  SELECT e.account_id, e.effective_on AS day FROM "{t["entry"]}" e
  WHERE e.kind IN ({outcome_kinds}) AND e.effective_on > %(first)s AND e.effective_on <= %(last)s
  UNION ALL
  SELECT c.account_id, COALESCE(r.closed_on, c.ends_on) AS day
  FROM "{t["renewal"]}" r JOIN "{t["contract"]}" c ON c.id = r.contract_id
  WHERE r.stage IN ({outcome_stages})
    AND COALESCE(r.closed_on, c.ends_on) > %(first)s AND COALESCE(r.closed_on, c.ends_on) <= %(last)s
), lost AS (
  SELECT DISTINCT e.account_id FROM events e CROSS JOIN window_day w LEFT JOIN missing m ON m.account_id = e.account_id
  WHERE e.day > {snapshot_day} AND e.day <= {_plus_days(snapshot_day, horizon)}
), cells AS (
  -- Fenced, so that the aggregate below reads these four numbers, not the rows' parts arrays.
  SELECT {"s.owner_id, " if by_owner else ""}k.i AS kind,
         CASE WHEN k.i < 0 THEN CASE s.band {band_rank} END
              WHEN {base} <> 0 AND {score} IS NOT NULL THEN {_bin(score)} END AS bin,
         CASE WHEN k.i < 0 THEN NULL ELSE {score} END AS score,
         CASE WHEN l.account_id IS NULL THEN 0 ELSE 1 END AS lost
  FROM snap s LEFT JOIN lost l ON l.account_id = s.account_id CROSS JOIN (SELECT -1 AS i UNION ALL {kinds}) k
  {_fence()}
), counts AS (
  SELECT {owner_group}kind, bin, SUM(lost) AS lost_n, SUM(1 - lost) AS kept_n,
         SUM(lost * score) AS lost_sum, SUM((1 - lost) * score) AS kept_sum
  FROM cells WHERE bin IS NOT NULL GROUP BY {owner_group}kind, bin
){tail}
"""  # noqa: S608 (identifiers and constants from the models; values are parameters)


def _window_params(*, today: date, horizon: int) -> dict[str, Any]:
    as_of = today - timedelta(days=horizon)
    return {"as_of": as_of, "first": as_of - timedelta(days=SNAPSHOT_DAYS), "last": as_of + timedelta(days=horizon)}


def horizon_statement(*, user: roles.User, today: date, horizon: int) -> tuple[str, dict[str, Any]]:
    """The statement (SQL and parameters) behind one horizon of the report for ``user``."""
    visible = Account.objects.visible_to(user).order_by().values("pk")
    accounts_sql, params = _named(*visible.query.sql_with_params())
    return _horizon_sql(accounts_sql, horizon), params | _window_params(today=today, horizon=horizon)


def snapshot_statement(*, today: date, horizon: int, scopes: list[tuple[int, int]]) -> tuple[str, dict[str, Any]]:
    """The snapshot's insert for one horizon: every account's counts per owner, added up once for
    everyone (viewer NULL) and once per manager in ``scopes`` ((manager id, owner id) pairs)."""
    accounts_sql, params = _named(*Account.objects.order_by().values("pk").query.sql_with_params())
    params |= _window_params(today=today, horizon=horizon) | {"day": today, "horizon": horizon}
    cell = CalibrationCell._meta.db_table
    sums = "SUM(c.lost_n), SUM(c.kept_n), SUM(c.lost_sum), SUM(c.kept_sum)"
    select = f"""
SELECT %(day)s, %(horizon)s, NULL, c.kind, c.bin, {sums} FROM by_owner c GROUP BY c.kind, c.bin"""  # noqa: S608 (constants; values are parameters)
    if scopes:
        pairs = []
        for i, (viewer, owner) in enumerate(scopes):
            pairs.append(f"(%(viewer_{i})s, %(owner_{i})s)")
            params |= {f"viewer_{i}": viewer, f"owner_{i}": owner}
        # The first pair is cast so that PostgreSQL types the VALUES' columns as integers.
        pairs[0] = "(CAST(%(viewer_0)s AS integer), CAST(%(owner_0)s AS integer))"
        select += f"""
UNION ALL
SELECT %(day)s, %(horizon)s, sc.viewer_id, c.kind, c.bin, {sums}
FROM by_owner c JOIN scopes sc ON sc.owner_id = c.owner_id GROUP BY sc.viewer_id, c.kind, c.bin"""  # noqa: S608 (constants; values are parameters)
        scopes_cte = f", scopes (viewer_id, owner_id) AS (VALUES {', '.join(pairs)})"
    else:
        scopes_cte = ""
    body = _horizon_sql(accounts_sql, horizon, by_owner=True).strip()
    sql = f"""INSERT INTO "{cell}" (day, horizon, viewer_id, kind, bin, lost_n, kept_n, lost_sum, kept_sum)
WITH by_owner AS (
{body}
){scopes_cte}{select}"""
    return sql, params


@transaction.atomic
def take_snapshot(*, today: date, now: datetime) -> dict[str, int]:
    """Nightly: the report's counts of ``today`` for everyone and for each manager, so that their
    page adds up a few thousand rows instead of reading every account's score (CSMs' own books are
    small and stay live). Safe to run twice: the day's counts are replaced. Earlier days' are
    deleted, but yesterday's. Reports follow owners and teams as they were when it ran."""
    users = get_user_model().objects
    managers = [
        user
        for user in users.filter(is_active=True, groups__name=roles.MANAGER).distinct().order_by("pk")
        if not roles.sees_everything(user)
    ]
    scopes = [(manager.pk, owner) for manager in managers for owner in visible_owner_ids(manager) or []]
    CalibrationCell.objects.filter(day__lt=today - timedelta(days=1)).delete()
    CalibrationCell.objects.filter(day=today).delete()
    cells = 0
    with connection.cursor() as cursor:
        for horizon in HORIZONS:
            cursor.execute(*snapshot_statement(today=today, horizon=horizon, scopes=scopes))
            cells += max(cursor.rowcount, 0)
    CalibrationSnapshot.objects.filter(day__lt=today - timedelta(days=1)).delete()
    CalibrationSnapshot.objects.update_or_create(
        day=today,
        defaults={"taken_at": now, "accounts": Account.objects.count(), "managers": [m.pk for m in managers]},
    )
    return {"managers": len(managers), "cells": cells}


def _stored_scope(*, user: roles.User, today: date) -> tuple[CalibrationSnapshot, int | None] | None:
    """The day's snapshot and the viewer scope of ``user`` in it (None: everyone), or None when it
    has none for this viewer (no snapshot yet today, a CSM's own book, a manager named since)."""
    if roles.sees_everything(user):
        viewer = None
    elif roles.is_manager(user):
        viewer = user.pk
    else:
        return None
    snapshot = CalibrationSnapshot.objects.filter(day=today).first()
    if snapshot is None or (viewer is not None and viewer not in snapshot.managers):
        return None
    return snapshot, viewer


def _stored_rows(*, day: date, viewer: int | None, horizon: int) -> list[tuple]:
    """The live statement's rows for ``horizon``, added up from the day's stored cells of ``viewer``."""
    viewer_match = "viewer_id IS NULL" if viewer is None else "viewer_id = %(viewer)s"
    sql = f"""WITH counts AS (
  SELECT kind, bin, lost_n, kept_n, lost_sum, kept_sum FROM "{CalibrationCell._meta.db_table}"
  WHERE day = %(day)s AND horizon = %(horizon)s AND {viewer_match}
){RANKED}"""  # noqa: S608 (constants; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"day": day, "horizon": horizon, "viewer": viewer})
        return cursor.fetchall()


def _live_rows(*, user: roles.User, today: date, horizon: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(*horizon_statement(user=user, today=today, horizon=horizon))
        return cursor.fetchall()


def calibration_report(*, user: roles.User, today: date) -> list[dict]:
    """``compute_calibration_report``, cached per user and day: its inputs are at least 90 days old,
    so a day's report does not change with the day's writes (CALIBRATION_CACHE_SECONDS)."""
    key = f"health:calibration:{user.pk}:{today.isoformat()}"
    report = cache.get_or_set(
        key, lambda: compute_calibration_report(user=user, today=today), settings.CALIBRATION_CACHE_SECONDS
    )
    return cast(list[dict], report)


def compute_calibration_report(*, user: roles.User, today: date, stored: bool = True) -> list[dict]:
    """For each horizon: per band, the share of accounts that churned or contracted within it after
    their score, and how well each component separated those accounts from the rest.

    One snapshot per account per horizon (its score about ``horizon`` days ago), so that every
    outcome window has fully passed and no account counts twice. One statement per horizon
    (``_horizon_sql``) returns a few dozen rows of counts and sums, whatever the number of accounts;
    for everyone and for managers the day's snapshot (``take_snapshot``) has those counts already
    (``stored=False`` computes them live).
    """
    scope = _stored_scope(user=user, today=today) if stored else None
    counted_at = scope[0].taken_at if scope else None
    report = []
    for horizon in HORIZONS:
        as_of = today - timedelta(days=horizon)
        bands: dict[str, dict[str, Any]] = {
            band: {"band": band, "label": label, "n": 0, "lost": 0} for band, label in HealthScore.Band.choices
        }
        rank_band = {rank: band for band, rank in HealthScore.BAND_RANK.items()}
        sums: dict[str, tuple[int, int, float, float, int]] = {}
        if scope:
            rows = _stored_rows(day=today, viewer=scope[1], horizon=horizon)
        else:
            rows = _live_rows(user=user, today=today, horizon=horizon)
        for kind_index, band_rank, lost_n, kept_n, lost_sum, kept_sum, wins2 in rows:
            if kind_index < 0:
                cell = bands[rank_band[int(band_rank)]]
                cell["n"], cell["lost"] = int(lost_n) + int(kept_n), int(lost_n)
            else:
                sums[PART_KINDS[kind_index]] = (int(lost_n), int(kept_n), float(lost_sum), float(kept_sum), int(wins2))
        for cell in bands.values():
            cell["rate"] = 100.0 * cell["lost"] / cell["n"] if cell["n"] else None
            cell["few"] = 0 < cell["n"] < FEW_ACCOUNTS
        total_n = sum(cell["n"] for cell in bands.values())
        total_lost = sum(cell["lost"] for cell in bands.values())
        component_rows: list[dict[str, Any]] = []
        for kind in KINDS:
            lost_n, kept_n, lost_sum, kept_sum, wins2 = sums.get(kind, (0, 0, 0.0, 0.0, 0))
            auc = wins2 / (2 * lost_n * kept_n) if lost_n and kept_n else None
            component_rows.append(
                {
                    "kind": kind,
                    "label": LABELS[kind],
                    "lost_mean": lost_sum / lost_n if lost_n else None,
                    "kept_mean": kept_sum / kept_n if kept_n else None,
                    "lost_n": lost_n,
                    "kept_n": kept_n,
                    "auc": auc,
                    "separation": separation_label(auc),
                }
            )
        component_rows.sort(key=lambda c: -1 if c["auc"] is None else abs(c["auc"] - 0.5), reverse=True)
        green, red = bands[HealthScore.Band.GREEN]["rate"], bands[HealthScore.Band.RED]["rate"]
        report.append(
            {
                "horizon": horizon,
                "as_of": as_of,
                "counted_at": counted_at,
                "bands": list(bands.values()),
                "n": total_n,
                "lost": total_lost,
                "rate": 100.0 * total_lost / total_n if total_n else None,
                # How many times as often red accounts were lost as green ones: the score's headline.
                "lift": red / green if red is not None and green else None,
                "components": component_rows,
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
