"""How often renewal-notice recipients answer, per contact role and per program (docs/domain.md).

Kept apart from the revenue figures in ``report.py``: one query per breakdown over the period's
delivered notices, with whether each has an answer (``renewals.RenewalAnswer``) as an EXISTS.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Account, Contact
from renewals.models import RenewalAnswer, RenewalNotice

from .report import Period, ratio

FORMULA = (
    "Answer rate = delivered notices with at least one answer through their links (plan to renew, let's talk,"
    " not the right person) ÷ notices delivered in the period (sent and not bounced)"
)
NO_PROGRAM = "No program"


@dataclass(frozen=True)
class AnswerRate:
    label: str
    answered: int
    delivered: int

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.answered, self.delivered)


@dataclass(frozen=True)
class AnswerRates:
    total: AnswerRate
    by_role: list[AnswerRate]
    by_program: list[AnswerRate]
    formula: str = FORMULA


def delivered_notices(accounts: QuerySet[Account], period: Period) -> QuerySet:
    """The notices of these accounts delivered in the period, each marked ``answered`` or not."""
    return (
        RenewalNotice.objects.delivered()
        .filter(contract__account__in=accounts, sent_at__date__gte=period.start, sent_at__date__lte=period.end)
        .annotate(answered=Exists(RenewalAnswer.objects.filter(notice=OuterRef("pk"))))
    )


def _counts(notices: QuerySet, **groups: Q) -> dict[str, tuple[int, int]]:
    totals = notices.aggregate(
        **{f"{key}_n": Count("pk", filter=where) for key, where in groups.items()},
        **{f"{key}_a": Count("pk", filter=where & Q(answered=True)) for key, where in groups.items()},
    )
    return {key: (totals[f"{key}_a"], totals[f"{key}_n"]) for key in groups}


def answer_rates(accounts: QuerySet[Account], period: Period) -> AnswerRates:
    """The answer rate over all delivered notices, per role of the recipient and per program.

    A recipient with two roles counts in both role rows (the rows do not add up to the total);
    each notice counts in exactly one program row.
    """
    notices = delivered_notices(accounts, period)
    roles = dict(Contact.ROLE_FIELDS)
    role_fields = list(Contact.RENEWAL_ROLE_FIELDS)
    counts = _counts(notices, all=Q(), **{field: Q(**{f"contact__{field}": True}) for field in role_fields})
    by_program = [
        AnswerRate(row["contract__program__name"] or NO_PROGRAM, row["a"], row["n"])
        for row in notices.order_by()
        .values("contract__program__name")
        .annotate(n=Count("pk"), a=Count("pk", filter=Q(answered=True)))
        .order_by("contract__program__name")
    ]
    return AnswerRates(
        total=AnswerRate("All recipients", *counts["all"]),
        by_role=[AnswerRate(str(roles.get(field, field)), *counts[field]) for field in role_fields],
        by_program=by_program,
    )
