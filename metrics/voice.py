"""The customer's voice on the Metrics page: NPS per program, segment and CSM, and exit-survey reasons
beside the CSM's reason code (docs/domain.md §12)."""

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import Account
from surveys.models import Survey, SurveyResponse, nps_of

NPS_FORMULA = "% promoters (9-10) - % detractors (0-6), over the NPS answers given in the period"
EXIT_FORMULA = "each lost renewal's reason code (chosen by the CSM) beside the reason its contacts gave"


def _counts(rows: QuerySet, group: str) -> list[dict[str, Any]]:
    promoters = Q(score__gte=SurveyResponse.PROMOTER_MIN)
    detractors = Q(score__lte=SurveyResponse.DETRACTOR_MAX)
    out = []
    for row in (
        rows.values(group)
        .annotate(n=Count("pk"), promoters=Count("pk", filter=promoters), detractors=Count("pk", filter=detractors))
        .order_by(group)
    ):
        row["nps"] = nps_of(row["promoters"], row["detractors"], row["n"])
        row["passives"] = row["n"] - row["promoters"] - row["detractors"]
        out.append(row)
    return out


def voice_block(accounts: QuerySet[Account], *, start: date, end: date) -> dict:
    answers = SurveyResponse.objects.nps().filter(account__in=accounts).answered_between(start, end)
    # Grouped by kind, every NPS answer is one row (or none in an empty period).
    [overall] = _counts(answers, "kind") or [{"n": 0, "promoters": 0, "detractors": 0, "passives": 0, "nps": None}]
    names = {
        "account__program__name": "Program",
        "account__segment": "Segment",
        "account__owner__username": "CSM",
    }
    segments = dict(Account.Segment.choices)
    breakdowns = []
    for field, label in names.items():
        rows = _counts(answers, field)
        for row in rows:
            value = row[field]
            row["label"] = segments.get(value, value) if field == "account__segment" else (value or "none")
        breakdowns.append({"label": label, "rows": rows})
    exits = list(
        SurveyResponse.objects.filter(kind=Survey.Kind.EXIT, account__in=accounts)
        .answered_between(start, end)
        .select_related("account", "contact", "reason", "invite__survey__renewal__reason")
        .order_by("-answered_at")[:50]
    )
    exit_rows = []
    agree = 0
    for response in exits:
        renewal = response.invite.survey.renewal
        csm_reason = renewal.reason if renewal else None
        same = csm_reason is not None and csm_reason == response.reason
        agree += same
        exit_rows.append({"response": response, "csm_reason": csm_reason, "same": same})
    return {
        "nps": overall,
        "nps_formula": NPS_FORMULA,
        "nps_breakdowns": breakdowns,
        "exit_rows": exit_rows,
        "exit_formula": EXIT_FORMULA,
        "exit_agree": agree,
    }
