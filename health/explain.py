"""Why a score is what it is: each component in words, the change since the last score, and the
account page's health panel.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta

from accounts.models import (
    Account,
    HealthCheck,
    HealthModel,
    HealthScore,
)
from renewals.models import Renewal

from .checks import check_due_on
from .scoring import KINDS, Kind

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
    Kind.SURVEY: "Customer surveys",
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
    Kind.SURVEY: "no NPS answer in the last 180 days",
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
        case Kind.SURVEY:
            return f"mean NPS answer {value:.1f} of 10 ({n} answer{'s' if n != 1 else ''}, 180 days)"
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
    # The breakdown compares the latest two scores, parts and all; the chart draws day, score and
    # band of each, so it reads those three columns, not the parts (most of a row's bytes).
    rows = list(recent.select_related("model").order_by("-day")[:2])
    current = rows[0] if rows else None
    previous = rows[1] if len(rows) > 1 else None
    points = recent.order_by("day").values("day", "score", "band")
    lines = explain(current, previous) if current else []
    last_check = account.health_checks.select_related("by").first()
    due_on = check_due_on(account)
    model = (current.model if current else None) or HealthModel.objects.default()
    chart = {
        "points": [{**point, "day": point["day"].isoformat()} for point in points] if current else [],
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
