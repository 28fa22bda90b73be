"""The Today page, one small query function per section.

Every section costs a fixed number of statements whatever the size of the book: it returns
at most ``limit`` rows, the most urgent first, and the total, counted up to COUNT_CAP so that
a team's book of 100,000 accounts is not read to the end for a number shown as "1,000+".
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, TruncMonth

from accounts.models import Account, Contact, HealthScore, Program, visible_owner_ids
from csm import roles
from health import explain
from playbooks import reviews
from playbooks.models import OnboardingItem, Task
from renewals.currency import Rates, Total
from renewals.models import Contract, Renewal, RenewalAnswer, RenewalNotice, RevenueEntry
from surveys.models import SurveyResponse

LIMIT = 8
# Contracts without a program get the docs/domain.md §8 minimum.
DEFAULT_NOTICE_LEAD_DAYS = 60
DEFAULT_TOUCH_CADENCE_DAYS = 30
BAND_RANK = HealthScore.BAND_RANK
# Past this many matches a section stops counting and shows "1,000+".
COUNT_CAP = 1000
CHARTS_TTL_SECONDS = 300


@dataclass(frozen=True)
class Scope:
    """Whose morning: the user's own book, or (for a manager) the team's."""

    user: User
    team: bool = False

    @classmethod
    def for_request(cls, user: User, view: str | None) -> "Scope":
        # Whoever sees a team (managers, admins, read-only) lands on it; "mine" asks for the own book.
        return cls(user=user, team=view != "mine" and can_see_team(user))

    @cached_property
    def visible_owner_ids(self) -> list[int] | None:
        """The owners whose books the user sees (None: every account), read once per page.

        Sections filter on this literal list, not on the team subquery of ``visible_to``: the
        planner then knows how many accounts match instead of guessing, and plans for that size.
        """
        return visible_owner_ids(self.user)

    @cached_property
    def programs(self) -> list[tuple[int, int, int]]:
        """Every program's id, renewal-notice lead and touch cadence (days), read once per page."""
        return list(Program.objects.values_list("pk", "renewal_notice_lead_days", "touch_cadence_days"))

    def visible_accounts(self) -> QuerySet[Account]:
        """``Account.objects.visible_to(user)``, with the owners as a list."""
        owners = self.visible_owner_ids
        return Account.objects.visible_to(self.user) if owners is None else Account.objects.filter(owner_id__in=owners)

    def accounts(self) -> QuerySet[Account]:
        # Churned accounts leave Today; their history stays on the account page.
        if self.team:
            return self.visible_accounts().active()
        return Account.objects.filter(owner=self.user).active()

    def tasks(self) -> QuerySet[Task]:
        if self.team:
            return Task.objects.filter(account__in=self.accounts())
        return Task.objects.filter(assignee=self.user, account__in=self.visible_accounts())


def can_see_team(user: User) -> bool:
    return roles.is_manager(user) or roles.sees_everything(user)


@dataclass
class Section:
    rows: list = field(default_factory=list)
    total: int = 0
    # True when the section stopped counting at its cap: ``total`` is then a lower bound.
    capped: bool = False

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def ranked_ids(queryset: QuerySet, *, order: tuple, cap: int = COUNT_CAP) -> tuple[list[int], int, bool]:
    """The ids of the first ``cap`` rows in ``order``; their number; and whether there are more.

    One read gives both the ranking and the count: only ids and sort keys, down an index in that
    order where there is one. The count stops at ``cap``: a team's book can hold tens of
    thousands of matches, and nobody reads past "1,000+".
    """
    ids = list(queryset.order_by(*order).values_list("pk", flat=True)[: cap + 1])
    return ids[:cap], min(len(ids), cap), len(ids) > cap


def first_rows(
    queryset: QuerySet, *, order: tuple, limit: int, related: tuple[str, ...], cap: int = COUNT_CAP
) -> Section:
    """The first ``limit`` rows in ``order`` with their related rows, and the (bounded) count.

    The joins for display run only on the few rows shown, not on the whole matching set.
    """
    ids, total, capped = ranked_ids(queryset, order=order, cap=cap)
    rows = queryset.model.objects.filter(pk__in=ids[:limit]).select_related(*related).order_by(*order) if ids else []
    return Section(rows=list(rows), total=total, capped=capped)


def tasks_due(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Open tasks overdue or due today, the oldest first."""
    tasks = scope.tasks().due_by(today).exclude(status=Task.Status.SNOOZED, snoozed_until__gt=today)
    return first_rows(tasks, order=("due_on", "pk"), limit=limit, related=("account", "assignee", "rule"))


def _notice_window(today: date, programs: list[tuple[int, int, int]]) -> Q:
    """Contracts inside their program's renewal-notice window.

    One plain range on ends_on (the status/ends_on index) up to the longest lead, then each
    program's own lead as a CASE on the rows found: a handful of programs, one WHEN each.
    """
    by_lead: dict[int, list[int]] = defaultdict(list)
    for pk, lead, _ in programs:
        by_lead[lead].append(pk)
    longest = max([DEFAULT_NOTICE_LEAD_DAYS, *by_lead])
    last_day = Case(
        *(When(program_id__in=ids, then=Value(today + timedelta(days=lead))) for lead, ids in by_lead.items()),
        default=Value(today + timedelta(days=DEFAULT_NOTICE_LEAD_DAYS)),
        output_field=DateField(),
    )
    return Q(ends_on__gte=today, ends_on__lte=today + timedelta(days=longest)) & Q(ends_on__lte=last_day)


def _count_of(queryset: QuerySet, group_by: str) -> Coalesce:
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def renewals_in_window(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Active contracts inside their notice window, with who the notice reaches and how it went."""
    # Overdue too: past its end with the renewal still open, until it is closed or lapses.
    overdue = Q(ends_on__lt=today, renewal__stage__in=Renewal.OPEN_STAGES)
    contracts = Contract.objects.active().filter(
        _notice_window(today, scope.programs) | overdue, account__in=scope.accounts()
    )
    window, total, capped = ranked_ids(contracts, order=("ends_on", "pk"))
    if not window:
        return Section()
    # The details, only for the rows shown: current renewal recipients, notices by outcome.
    recipients = Contact.objects.renewal_recipients(today=today).filter(account=OuterRef("account_id"))
    notices = RenewalNotice.objects.filter(contract=OuterRef("pk"))
    # Failed and bounced notices are counted together; the unclear ones (needs review) apart.
    problems = RenewalNotice.UNDELIVERED
    # A notice waiting on a person shows whatever its contract's place in the window: those
    # contracts come first (few rows, read by the notice status index), then the earliest ends.
    flagged = list(
        RenewalNotice.objects.problems()
        .filter(contract__in=contracts)
        .order_by("contract__ends_on", "contract_id")
        .values_list("contract_id", flat=True)
        .distinct()[: limit * 4]
    )
    flagged = list(dict.fromkeys(flagged))[:limit]
    shown = flagged + [pk for pk in window if pk not in set(flagged)][: limit - len(flagged)]
    rows = list(
        Contract.objects.filter(pk__in=shown)
        .select_related("account", "renewal")
        .annotate(
            recipients=_count_of(recipients, "account"),
            notices_sent=_count_of(notices.filter(status=RenewalNotice.Status.SENT), "contract"),
            notices_bounced=_count_of(notices.filter(status__in=problems), "contract"),
            notices_review=_count_of(notices.filter(status=RenewalNotice.Status.NEEDS_REVIEW), "contract"),
        )
        .order_by("ends_on", "pk")
    )
    rows.sort(key=lambda contract: contract.pk not in flagged)  # stable: by end within each group
    for contract in rows:
        contract.days_to_end = contract.days_left(today)
        contract.notice_status = notice_status(contract)
    return Section(rows=rows, total=total, capped=capped)


def notice_status(contract: Contract) -> tuple[str, str]:
    """(label, tone) for the renewal notice of a contract in its window."""
    if contract.recipients == 0:
        return "No renewal contact", "bad"
    if contract.notices_bounced:
        return "Bounced", "bad"
    if contract.notices_review:
        return "Needs review", "warn"
    if contract.notices_sent:
        tone = "warn" if contract.recipients == 1 else "good"
        return ("Sent to one contact only" if contract.recipients == 1 else "Sent"), tone
    if contract.recipients == 1:
        return "Not sent · one contact only", "warn"
    return "Not sent yet", ""


def health_worsened(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Accounts the latest nightly run flagged (band worsened or score dropped sharply), with
    what changed since their previous score."""
    latest_day = HealthScore.objects.last_day(before=today, inclusive=True)
    if latest_day is None:
        return Section()
    scores = HealthScore.objects.filter(account__in=scope.accounts(), day=latest_day, flagged=True)
    biggest_drop = F("score_drop").desc(nulls_last=True)
    section = first_rows(scores, order=(biggest_drop, "score", "pk"), limit=limit, related=("account",))
    rows = section.rows
    previous = {}
    for score in HealthScore.objects.filter(
        account__in=[row.account_id for row in rows], day__lt=latest_day, day__gte=latest_day - timedelta(days=7)
    ).order_by("account", "-day"):
        previous.setdefault(score.account_id, score)
    for score in rows:
        changes = [line for line in explain.explain(score, previous.get(score.account_id)) if (line.delta or 0) < 0]
        changes.sort(key=lambda line: line.delta)
        score.reason = changes[0].change if changes else health_reason(score)
    return section


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


def _cadence_cutoff(now: datetime, programs: list[tuple[int, int, int]]) -> Case:
    """Per account, the moment before which silence breaks its program's touch cadence."""
    by_cadence: dict[int, list[int]] = defaultdict(list)
    for pk, _, cadence in programs:
        by_cadence[cadence].append(pk)
    return Case(
        *(When(program_id__in=ids, then=Value(now - timedelta(days=days))) for days, ids in by_cadence.items()),
        default=Value(now - timedelta(days=DEFAULT_TOUCH_CADENCE_DAYS)),
        output_field=DateTimeField(),
    )


def not_heard_from(scope: Scope, *, now: datetime, limit: int = LIMIT, cap: int = COUNT_CAP) -> Section:
    """Active accounts with no touchpoint within their program's cadence, longest silence first.

    Reads ``Account.last_touch_at`` in order down account_last_touch_idx (or, for one book,
    account_owner_touch_idx), never-touched accounts first, so only the rows shown are read.
    The count stops at ``cap``.
    """
    active = scope.accounts().active()
    never = active.filter(last_touch_at__isnull=True)
    quiet = active.filter(last_touch_at__lt=_cadence_cutoff(now, scope.programs))
    # Two ordered reads rather than one ORDER BY ... NULLS FIRST, which SQLite cannot index.
    never_ids, never_total, _ = ranked_ids(never, order=("pk",), cap=cap)
    quiet_ids, quiet_total, _ = ranked_ids(quiet, order=("last_touch_at", "pk"), cap=cap)
    ids = [*never_ids, *quiet_ids][:limit]
    total, capped = min(never_total + quiet_total, cap), never_total + quiet_total > cap
    accounts = Account.objects.filter(pk__in=ids).select_related("program", "owner") if ids else []
    rows = sorted(accounts, key=lambda account: ids.index(account.pk))
    for account in rows:
        account.last_touch = account.last_touch_at
        account.silent_days = (now - account.last_touch_at).days if account.last_touch_at else None
    return Section(rows=rows, total=total, capped=capped)


RECENT_ANSWER_DAYS = 14


def survey_responses(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Survey answers of the last RECENT_ANSWER_DAYS days, newest first (a detractor's task is in Tasks)."""
    answers = SurveyResponse.objects.filter(
        account__in=scope.accounts(), answered_on__gt=today - timedelta(days=RECENT_ANSWER_DAYS)
    )
    return first_rows(answers, order=("-answered_at", "-pk"), limit=limit, related=("account", "contact", "reason"))


def onboarding_overdue(scope: Scope, *, today: date, limit: int = LIMIT) -> Section:
    """Accounts with onboarding checklist items past due, the longest overdue first."""
    items = OnboardingItem.objects.filter(account__in=scope.accounts(), completed_on__isnull=True, due_on__lt=today)
    # Grouped by account first, so the window counts accounts, not items.
    rows = list(
        items.values("account_id", "account__name")
        .annotate(overdue=Count("pk"), oldest=Min("due_on"), total=Window(Count("*")))
        .order_by("oldest", "account_id")[:limit]
    )
    for row in rows:
        row["days_late"] = (today - row["oldest"]).days
    return Section(rows=rows, total=rows[0]["total"] if rows else 0)


@dataclass
class ReviewSection(Section):
    counts: dict[str, int] = field(default_factory=dict)  # per kind (reviews.KINDS)


def overdue_reviews(scope: Scope, *, today: date, limit: int = LIMIT, cap: int = COUNT_CAP) -> Section:
    """Accounts whose health check or business review is overdue (playbooks/reviews.py, the rules'
    definition too), the longest overdue first, with a count per kind."""
    found: dict[str, tuple[list[int], int, bool]] = {}
    for kind in reviews.KINDS:
        accounts = reviews.overdue_accounts(scope.accounts(), kind, today=today)
        found[kind] = ranked_ids(accounts, order=("pk",), cap=cap)
    ids = list(dict.fromkeys(pk for kind in reviews.KINDS for pk in found[kind][0]))
    accounts = {account.pk: account for account in Account.objects.filter(pk__in=ids).select_related("program")}
    rows = []
    for kind, label in reviews.KINDS.items():
        kind_ids = found[kind][0]
        last = reviews.last_held(kind, kind_ids)
        for pk in kind_ids:
            account = accounts[pk]
            due = reviews.due_on(kind, account, last=last.get(pk))
            rows.append({"account": account, "kind": kind, "label": label, "last": last.get(pk), "due_on": due})
    rows.sort(key=lambda row: (row["due_on"] or today, row["account"].pk))
    for row in rows:
        row["days_late"] = (today - row["due_on"]).days if row["due_on"] else 0
    counts = {kind: found[kind][1] for kind in reviews.KINDS}
    capped = any(found[kind][2] for kind in reviews.KINDS)
    return ReviewSection(rows=rows[:limit], total=sum(counts.values()), capped=capped, counts=counts)


def charts(scope: Scope, *, today: date) -> dict:
    """The pipeline and revenue charts of the scope, computed at most once per CHARTS_TTL_SECONDS.

    Both are aggregates over the whole book: for a team of 100,000 accounts they read some
    50,000 renewals and 60,000 revenue entries, hundreds of ms a time. A trend a few minutes
    old is the same trend; a user's own changes show on the next period.
    """
    key = f"today-charts:{'team' if scope.team else 'book'}:{scope.user.pk}:{today.isoformat()}"
    found = cache.get(key)
    if found is None:
        rates = Rates.as_of(today)
        pipeline, missing = pipeline_by_stage(scope, rates=rates)
        revenue, missing_too = revenue_movement(scope, today=today, rates=rates)
        left_out = sorted(set(missing) | set(missing_too))
        note = f"In {rates.base} at rates as of {today:%-d %b %Y}"
        if left_out:
            note += f"; {', '.join(left_out)} left out (no rate: see Admin → Exchange rates)"
        found = {"pipeline": pipeline, "revenue": revenue, "currency_note": note}
        cache.set(key, found, CHARTS_TTL_SECONDS)
    return found


def _convertible(total: Total) -> float:
    """A chart's amount: the total in the base currency, or its part in currencies with a rate."""
    if total.amount is not None:
        return float(total.amount)
    return float(sum((amount for c, amount in total.by_currency.items() if c not in total.missing), Decimal("0")))


def pipeline_by_stage(scope: Scope, *, rates: Rates) -> tuple[list[dict], list[str]]:
    """Open renewals of the book per stage, with their recurring amount in the base currency."""
    counts: dict[str, int] = {}
    amounts: dict[str, list] = {}
    for row in (
        Renewal.objects.open()
        .filter(contract__account__in=scope.accounts())
        .values("stage", "contract__currency")
        .annotate(n=Count("pk"), amount=Sum("contract__recurring_amount"))
    ):
        counts[row["stage"]] = counts.get(row["stage"], 0) + row["n"]
        amounts.setdefault(row["stage"], []).append((row["contract__currency"], row["amount"]))
    totals = {stage: rates.total(amounts.get(stage, [])) for stage in Renewal.OPEN_STAGES}
    missing = sorted({currency for total in totals.values() for currency in total.missing})
    return [
        {"stage": Renewal.Stage(stage).label, "n": counts.get(stage, 0), "amount": _convertible(totals[stage])}
        for stage in Renewal.OPEN_STAGES
    ], missing


def revenue_movement(scope: Scope, *, today: date, rates: Rates, months: int = 12) -> tuple[dict, list[str]]:
    """Recurring revenue gained and lost per month by source (base currency), for a stacked bar chart."""
    first = date(today.year, today.month, 1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = (
        RevenueEntry.objects.filter(account__in=scope.accounts(), effective_on__gte=first, effective_on__lte=today)
        .annotate(month=TruncMonth("effective_on"))
        .values("month", "kind", "currency")
        .annotate(amount=Sum("amount"))
    )
    labels, cursor = [], first
    while cursor <= today:
        labels.append(cursor)
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    series = {kind: [0.0] * len(labels) for kind in RevenueEntry.Kind.values}
    index = {month: i for i, month in enumerate(labels)}
    missing: set[str] = set()
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        converted = rates.convert(row["amount"], row["currency"])
        if converted is None:
            missing.add(row["currency"])
        elif month in index:
            series[row["kind"]][index[month]] += float(converted)
    return {
        "labels": [month.strftime("%b %Y") for month in labels],
        "series": [
            {"kind": kind, "label": RevenueEntry.Kind(kind).label, "values": series[kind]}
            for kind in RevenueEntry.Kind.values
        ],
    }, sorted(missing)


ANSWER_DAYS = 14


def recent_answers(scope: Scope, *, now: datetime, limit: int = LIMIT, days: int = ANSWER_DAYS) -> Section:
    """What recipients answered to renewal notices in the last ``days`` days, the newest first.

    "Let's talk" and a named person waiting for the CSM's confirmation need a person; "we plan
    to renew" is good news to act on. Read down the answer table's time order, bounded like
    every section.
    """
    answers = RenewalAnswer.objects.filter(
        renewal__contract__account__in=scope.accounts(), answered_at__gte=now - timedelta(days=days)
    )
    return first_rows(
        answers,
        order=("-answered_at", "-pk"),
        limit=limit,
        related=("notice__contact", "renewal__contract__account", "new_contact"),
    )
