"""What the pipeline and the forecast-accuracy pages show: reads only (docs/domain.md §10, §11)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from accounts.models import Account
from renewals.models import Renewal

from .models import Checkpoint, Opportunity, Suggestion

WON_LOST_DAYS = 90


def _month(day: date) -> date:
    return day.replace(day=1)


def pipeline(opportunities: "QuerySet[Opportunity]", *, today: date) -> dict:
    """Open opportunities by stage, and the weighted forecast by month of expected close.

    weighted = Σ amount x probability ÷ 100 over open opportunities (docs/domain.md §10); an
    opportunity expected before this month counts in this month (it is late, not gone). Won
    amounts count in the month they closed: they are in the ledger already.
    """
    rows = list(
        opportunities.filter(stage=Opportunity.Stage.OPEN).values("amount", "probability", "close_date", "currency")
    )
    recent = today - timedelta(days=WON_LOST_DAYS)
    closed = list(
        opportunities.exclude(stage=Opportunity.Stage.OPEN)
        .filter(closed_on__gte=recent)
        .values("stage", "amount", "closed_on", "currency")
    )
    this_month = _month(today)
    months: dict[tuple[date, str], dict[str, Any]] = {}

    def bucket(month: date, currency: str) -> dict[str, Any]:
        return months.setdefault(
            (month, currency),
            {"month": month, "currency": currency, "n": 0, "amount": Decimal("0"), "weighted": Decimal("0"),
             "won": Decimal("0")},
        )  # fmt: skip

    stages: dict[str, dict[str, Any]] = {
        stage: {"stage": stage, "label": label, "n": 0, "amount": Decimal("0"), "weighted": Decimal("0")}
        for stage, label in Opportunity.Stage.choices
    }
    for row in rows:
        weighted = (row["amount"] * row["probability"] / 100).quantize(Decimal("0.01"))
        b = bucket(max(_month(row["close_date"]), this_month), row["currency"])
        b["n"] += 1
        b["amount"] += row["amount"]
        b["weighted"] += weighted
        stages["open"]["n"] += 1
        stages["open"]["amount"] += row["amount"]
        stages["open"]["weighted"] += weighted
    for done in closed:
        stages[done["stage"]]["n"] += 1
        stages[done["stage"]]["amount"] += done["amount"]
        if done["stage"] == Opportunity.Stage.WON:
            stages["won"]["weighted"] += done["amount"]
            if done["closed_on"] and _month(done["closed_on"]) == this_month:
                bucket(this_month, done["currency"])["won"] += done["amount"]
    return {
        "stages": list(stages.values()),
        "months": [months[key] for key in sorted(months)],
        "weighted_total": stages["open"]["weighted"],
    }


@dataclass
class AccuracyRow:
    label: str
    checkpoints: int = 0  # checkpoints of renewals that closed
    csm_calls: int = 0
    csm_right: int = 0
    auto_right_on_called: int = 0  # csm's own calls, on the same checkpoints the CSM called
    auto_right: int = 0  # csm's calls on every checkpoint of a closed renewal
    disagreements: int = 0
    by_point: dict = field(default_factory=dict)

    @staticmethod
    def _pct(right: int, total: int) -> float | None:
        return round(100 * right / total, 1) if total else None

    @property
    def csm_accuracy(self) -> float | None:
        return self._pct(self.csm_right, self.csm_calls)

    @property
    def auto_accuracy_on_called(self) -> float | None:
        return self._pct(self.auto_right_on_called, self.csm_calls)

    @property
    def auto_accuracy(self) -> float | None:
        return self._pct(self.auto_right, self.checkpoints)


def forecast_accuracy(checkpoints: "QuerySet[Checkpoint]", *, since: date | None = None) -> dict:
    """Compare both calls with the outcome of each closed renewal, per CSM and overall.

    A call is right when it is the call the outcome proves (``Checkpoint.RIGHT_CALL``: renewed or
    expanded → likely, downgraded → at risk, lost → will churn). Accuracy = right calls ÷ calls
    (docs/domain.md §11).
    """
    rows = checkpoints.filter(renewal__stage__in=Renewal.CLOSED_STAGES)
    if since is not None:
        rows = rows.filter(renewal__closed_on__gte=since)
    data = rows.values_list(
        "asked_of_id", "asked_of__username", "asked_of__first_name", "asked_of__last_name", "days_before",
        "auto_call", "csm_call", "renewal__stage",
    )  # fmt: skip
    overall = AccuracyRow(label="Overall")
    per_csm: dict[int | None, AccuracyRow] = {}
    for user_id, username, first, last, point, auto, csm, stage in data:
        right = Checkpoint.RIGHT_CALL[stage]
        name = " ".join(filter(None, [first, last])) or username or "Nobody"
        for row in (overall, per_csm.setdefault(user_id, AccuracyRow(label=name))):
            row.checkpoints += 1
            row.auto_right += auto == right
            if csm:
                row.csm_calls += 1
                row.csm_right += csm == right
                row.auto_right_on_called += auto == right
                row.disagreements += csm != auto
        point_row = overall.by_point.setdefault(point, AccuracyRow(label=f"T-{point}"))
        point_row.checkpoints += 1
        point_row.auto_right += auto == right
        if csm:
            point_row.csm_calls += 1
            point_row.csm_right += csm == right
            point_row.auto_right_on_called += auto == right
            point_row.disagreements += csm != auto
    return {
        "overall": overall,
        "per_csm": sorted(per_csm.values(), key=lambda r: r.label),
        "per_point": [overall.by_point[p] for p in sorted(overall.by_point, reverse=True)],
    }


def account_panel(account: Account) -> dict:
    """The account page's block: its latest opportunities, waiting suggestions and checkpoints (3 reads)."""
    return {
        "opportunities": list(account.opportunities.order_by("stage", "close_date", "-pk")[:6]),
        "suggestions": list(Suggestion.objects.filter(account=account).pending()[:3]),
        "checkpoints": list(
            Checkpoint.objects.filter(account=account, renewal__stage__in=Renewal.OPEN_STAGES).order_by("-days_before")[
                :4
            ]
        ),
    }
