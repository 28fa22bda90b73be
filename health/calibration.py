"""Calibration: does the score predict churn? Separation (AUC) of the bands against outcomes at
90 and 180 days.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.models import (
    Account,
    HealthScore,
)
from csm import roles
from renewals.models import Renewal, RevenueEntry

from .explain import LABELS
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


def _snapshots(accounts: Any, as_of: date) -> dict[int, HealthScore]:
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
    report = cache.get_or_set(
        key, lambda: compute_calibration_report(user=user, today=today), settings.CALIBRATION_CACHE_SECONDS
    )
    return cast(list[dict], report)


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
        component_rows: list[dict[str, Any]] = []
        for kind, (lost_scores, kept_scores) in by_component.items():
            auc = _auc(lost_scores, kept_scores)
            component_rows.append(
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
        component_rows.sort(key=lambda c: -1 if c["auc"] is None else abs(c["auc"] - 0.5), reverse=True)
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
