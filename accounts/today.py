"""The Today page, one small query function per section.

Every section costs a fixed number of statements whatever the size of the book: it returns
at most ``limit`` rows (ordered so the most urgent come first) and the total. Sections that
depend on another app's models (health scores, renewal notices) look the model up and show
nothing until it exists.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.contrib.auth.models import User
from django.db.models import Count, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from playbooks.models import OnboardingItem, Program, Task
from renewals.models import Contract, Renewal, RevenueEntry

from . import roles
from .models import Account, Contact, Touchpoint

LIMIT = 8
# Contracts without a program get the DOMAIN §8 minimum.
DEFAULT_NOTICE_LEAD_DAYS = 60
DEFAULT_TOUCH_CADENCE_DAYS = 30
BAND_RANK = {"green": 0, "yellow": 1, "red": 2}


def optional_model(app_label: str, name: str) -> type | None:
    """A model another issue adds; None until it has landed."""
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


@dataclass(frozen=True)
class Scope:
    """Whose morning: the user's own book, or (for a manager) the team's."""

    user: User
    team: bool = False

    @classmethod
    def for_request(cls, user: User, view: str | None) -> "Scope":
        return cls(user=user, team=view == "team" and can_see_team(user))

    def accounts(self) -> QuerySet[Account]:
        if self.team:
            return Account.objects.visible_to(self.user)
        return Account.objects.filter(owner=self.user)

    def tasks(self) -> QuerySet[Task]:
        if self.team:
            return Task.objects.filter(account__in=self.accounts())
        return Task.objects.filter(assignee=self.user, account__in=Account.objects.visible_to(self.user))


def can_see_team(user: User) -> bool:
    return roles.is_manager(user) or roles.sees_everything(user)


@dataclass
class Section:
    rows: list = field(default_factory=list)
    total: int = 0
    available: bool = True

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def tasks_due(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Open tasks overdue or due today, the oldest first."""
    tasks = scope.tasks().due_by(today).exclude(status=Task.Status.SNOOZED, snoozed_until__gt=today)
    rows = list(tasks.select_related("account", "assignee").order_by("due_on", "pk")[:limit])
    return Section(rows=rows, total=tasks.count())


def _lead_days_window(today: date) -> Q:
    """Contracts inside their program's renewal-notice window (a handful of programs: one OR each)."""
    by_lead: dict[int, list[int]] = defaultdict(list)
    for pk, lead in Program.objects.values_list("pk", "renewal_notice_lead_days"):
        by_lead[lead].append(pk)
    window = Q(program__isnull=True, ends_on__lte=today + timedelta(days=DEFAULT_NOTICE_LEAD_DAYS))
    for lead, program_ids in by_lead.items():
        window |= Q(program_id__in=program_ids, ends_on__lte=today + timedelta(days=lead))
    return window


def _count_of(queryset: QuerySet, group_by: str) -> Coalesce:
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def renewals_in_window(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Active contracts inside their notice window, with who the notice reaches and how it went."""
    contracts = Contract.objects.active().filter(
        _lead_days_window(today), account__in=scope.accounts(), ends_on__gte=today
    )
    recipients = Contact.objects.renewal_recipients(today=today).filter(account=OuterRef("account_id"))
    rows = contracts.select_related("account", "renewal").annotate(recipients=_count_of(recipients, "account"))
    notice_model = optional_model("renewals", "RenewalNotice")
    if notice_model is not None:
        notices = notice_model.objects.filter(contract=OuterRef("pk"))
        rows = rows.annotate(
            notices_sent=_count_of(notices.filter(status="sent"), "contract"),
            notices_bounced=_count_of(notices.filter(status__in=["bounced", "failed"]), "contract"),
            notices_review=_count_of(notices.filter(status="needs_review"), "contract"),
        )
    rows = list(rows.order_by("ends_on", "pk")[:limit])
    for contract in rows:
        contract.days_to_end = contract.days_left(today)
        contract.notice_status = notice_status(contract)
    return Section(rows=rows, total=contracts.count())


def notice_status(contract: Contract) -> tuple[str, str]:
    """(label, tone) for the renewal notice of a contract in its window."""
    if contract.recipients == 0:
        return "No renewal contact", "bad"
    if getattr(contract, "notices_bounced", 0):
        return "Bounced", "bad"
    if getattr(contract, "notices_review", 0):
        return "Needs review", "warn"
    if getattr(contract, "notices_sent", 0):
        tone = "warn" if contract.recipients == 1 else "good"
        return ("Sent to one contact only" if contract.recipients == 1 else "Sent"), tone
    if contract.recipients == 1:
        return "Not sent · one contact only", "warn"
    return "Not sent yet", ""


def health_worsened(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Accounts the latest nightly run flagged: band worsened or score dropped sharply."""
    score_model = optional_model("accounts", "HealthScore")
    if score_model is None:
        return Section(available=False)
    latest_day = score_model.objects.filter(day__lte=today).order_by("-day").values_list("day", flat=True).first()
    if latest_day is None:
        return Section()
    scores = score_model.objects.filter(account__in=scope.accounts(), day=latest_day, flagged=True)
    biggest_drop = F("score_drop").desc(nulls_last=True)
    rows = list(scores.select_related("account").order_by(biggest_drop, "score", "pk")[:limit])
    for score in rows:
        score.reason = health_reason(score)
    return Section(rows=rows, total=scores.count())


def health_reason(score: object, *, parts: int = 2) -> str:
    """The components that cost the score most points: why the account is where it is."""
    components = getattr(score, "components", None) or {}
    lost = []
    for kind, part in components.items():
        if not isinstance(part, dict) or part.get("score") is None or not part.get("weight"):
            continue
        lost.append((float(part["weight"]) * (100 - float(part["score"])) / 100, kind, part["score"]))
    lost.sort(reverse=True)
    return ", ".join(f"{kind.replace('_', ' ')} {round(float(value))}/100" for _, kind, value in lost[:parts])


def _cadence_overdue(now: datetime) -> Q:
    by_cadence: dict[int, list[int]] = defaultdict(list)
    for pk, cadence in Program.objects.values_list("pk", "touch_cadence_days"):
        by_cadence[cadence].append(pk)
    overdue = Q(last_touch__isnull=True) | Q(
        program__isnull=True, last_touch__lt=now - timedelta(days=DEFAULT_TOUCH_CADENCE_DAYS)
    )
    for cadence, program_ids in by_cadence.items():
        overdue |= Q(program_id__in=program_ids, last_touch__lt=now - timedelta(days=cadence))
    return overdue


def not_heard_from(scope: Scope, *, now: datetime, limit: int = LIMIT) -> Section:
    """Active accounts with no touchpoint within their program's cadence, longest silence first."""
    last_touch = Touchpoint.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    accounts = scope.accounts().active().annotate(last_touch=Subquery(last_touch)).filter(_cadence_overdue(now))
    rows = list(
        accounts.select_related("program", "owner").order_by(F("last_touch").asc(nulls_first=True), "pk")[:limit]
    )
    for account in rows:
        account.silent_days = (now - account.last_touch).days if account.last_touch else None
    return Section(rows=rows, total=accounts.count())


def onboarding_overdue(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Accounts with onboarding checklist items past due, the longest overdue first."""
    items = OnboardingItem.objects.filter(account__in=scope.accounts(), completed_on__isnull=True, due_on__lt=today)
    rows = list(
        items.values("account_id", "account__name")
        .annotate(overdue=Count("pk"), oldest=Min("due_on"))
        .order_by("oldest", "account_id")[:limit]
    )
    for row in rows:
        row["days_late"] = (today - row["oldest"]).days
    return Section(rows=rows, total=items.values("account_id").distinct().count())


def pipeline_by_stage(scope: Scope) -> list[dict]:
    """Open renewals of the book per stage, with their recurring amount."""
    counts = {
        row["stage"]: row
        for row in Renewal.objects.open()
        .filter(contract__account__in=scope.accounts())
        .values("stage")
        .annotate(n=Count("pk"), amount=Sum("contract__recurring_amount"))
    }
    return [
        {
            "stage": Renewal.Stage(stage).label,
            "n": counts.get(stage, {}).get("n", 0),
            "amount": float(counts.get(stage, {}).get("amount") or 0),
        }
        for stage in Renewal.OPEN_STAGES
    ]


def revenue_movement(scope: Scope, *, today: date, months: int = 12) -> dict:
    """Recurring revenue gained and lost per month by source, for a stacked bar chart."""
    first = date(today.year, today.month, 1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = (
        RevenueEntry.objects.filter(account__in=scope.accounts(), effective_on__gte=first, effective_on__lte=today)
        .annotate(month=TruncMonth("effective_on"))
        .values("month", "kind")
        .annotate(amount=Sum("amount"))
    )
    labels, cursor = [], first
    while cursor <= today:
        labels.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    series = {kind: [0.0] * len(labels) for kind in RevenueEntry.Kind.values}
    index = {month: i for i, month in enumerate(labels)}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        if month in index:
            series[row["kind"]][index[month]] = float(row["amount"])
    return {
        "labels": [month.strftime("%b %Y") for month in labels],
        "series": [
            {"kind": kind, "label": RevenueEntry.Kind(kind).label, "values": series[kind]}
            for kind in RevenueEntry.Kind.values
        ],
    }


def has_any_account(scope: Scope) -> bool:
    return scope.accounts().exists()
