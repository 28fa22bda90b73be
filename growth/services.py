"""Expansion opportunities, their suggestions, and renewal checkpoints (docs/domain.md §10, §11).

Every change goes through one function here: keyword-only, ``@transaction.atomic``, raising
``ValidationError`` with field errors. A won opportunity reaches the revenue ledger only through
``renewals.services.change_contract_amount``, so Net Recurring Revenue counts it once.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat

from accounts.models import Account, HealthScore, Team, UsageSnapshot
from csm import freshness
from playbooks import services as playbook_services
from playbooks.models import EntitlementUse, Milestone, Task
from playbooks.services import ENTITLEMENT_FIELDS
from renewals import services as renewal_services
from renewals.models import Contract, Renewal, RenewalAnswer

from .models import Checkpoint, CheckpointSchedule, Opportunity, Suggestion

DEFAULT_CHECKPOINTS = (180, 90)  # docs/domain.md §11: T-180 and T-90
LICENCE_SHARE = Decimal("0.9")  # docs/domain.md §10: more than 90 % of licences in use ...
LICENCE_DAYS = 30  # ... on every snapshot for 30 days
MILESTONE_DAYS = 30  # a milestone reached in the last 30 days suggests an upsell
PROMOTER_MIN = 9  # an NPS answer of 9 or 10
CALL_TASK_DAYS = 14  # the CSM has two weeks to make their call
CHUNK = 2000
ENTITLEMENT_PLURALS = {
    "business_review": "business reviews",
    "training": "training seats",
    "success_hours": "success hours",
}


# --- Opportunities ---------------------------------------------------------------------------


def _check_fields(*, kind: str, amount: Decimal | None, probability: int, currency: str) -> None:
    errors = {}
    if kind not in Opportunity.Kind.values:
        errors["kind"] = "Choose upsell, cross-sell, seats or services."
    if amount is None or amount <= 0:
        errors["amount"] = "Enter the added recurring amount per year, above zero."
    if probability is None or not 0 <= probability <= 100:
        errors["probability"] = "Probability is a percentage from 0 to 100."
    if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        errors["currency"] = "A three-letter currency code, e.g. USD."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_opportunity(
    *,
    account: Account,
    kind: str,
    title: str,
    amount: Decimal,
    close_date: date,
    by: User | None,
    probability: int = 50,
    currency: str = "USD",
    owner: User | None = None,
    reason: str = "",
) -> Opportunity:
    _check_fields(kind=kind, amount=amount, probability=probability, currency=currency)
    title = (title or "").strip() or f"{Opportunity.Kind(kind).label} for {account.name}"
    return Opportunity.objects.create(
        account=account,
        kind=kind,
        title=title[:200],
        amount=amount,
        currency=currency,
        probability=probability,
        close_date=close_date,
        owner=owner if owner is not None else account.owner,
        reason=reason[:300],
        created_by=by,
    )


@transaction.atomic
def update_opportunity(
    opportunity: Opportunity,
    *,
    by: User | None,
    kind: str,
    title: str,
    amount: Decimal,
    probability: int,
    close_date: date,
    owner: User | None,
    reason: str = "",
) -> Opportunity:
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if opportunity.stage != Opportunity.Stage.OPEN:
        raise ValidationError("This opportunity is closed; it cannot change.")
    _check_fields(kind=kind, amount=amount, probability=probability, currency=opportunity.currency)
    opportunity.kind, opportunity.amount, opportunity.probability = kind, amount, probability
    opportunity.title = (title or "").strip()[:200] or opportunity.title
    opportunity.close_date, opportunity.owner, opportunity.reason = close_date, owner, reason[:300]
    opportunity.save()
    return opportunity


def contract_for_expansion(account: Account, *, on: date) -> Contract | None:
    """The running term a win on ``on`` adds to: the active contract covering that day."""
    return (
        Contract.objects.active()
        .filter(account=account, starts_on__lte=on, ends_on__gte=on)
        .order_by("ends_on", "pk")
        .first()
    )


@transaction.atomic
def win_opportunity(
    opportunity: Opportunity, *, by: User | None, today: date, effective_on: date | None = None
) -> Opportunity:
    """Close won: the contract's amount grows by the opportunity's, through the contract service.

    The ledger gets one ``expansion`` entry (so Net Recurring Revenue counts it) and the open
    renewal of that term forecasts the grown amount (so the renewal forecast agrees).
    """
    opportunity = Opportunity.objects.select_for_update().select_related("account").get(pk=opportunity.pk)
    if opportunity.stage != Opportunity.Stage.OPEN:
        raise ValidationError("This opportunity is already closed.")
    effective_on = effective_on or today
    contract = contract_for_expansion(opportunity.account, on=effective_on)
    if contract is None:
        raise ValidationError(
            {"effective_on": f"{opportunity.account} has no active contract on {effective_on}: record one first."}
        )
    if contract.currency != opportunity.currency:
        raise ValidationError(
            {"currency": f"The contract is in {contract.currency}; the opportunity is in {opportunity.currency}."}
        )
    entry = renewal_services.change_contract_amount(
        contract,
        amount=contract.recurring_amount + opportunity.amount,
        effective_on=effective_on,
        by=by,
        note=f"Expansion won: {opportunity.title}",
    )
    renewal = Renewal.objects.filter(contract=contract).first()
    if renewal is not None and renewal.is_open:
        renewal_services.update_renewal(
            renewal,
            by=by,
            forecast_amount=(renewal.renewal_amount + opportunity.amount),
            uplift_pct=renewal.uplift_pct,
            probability=renewal.probability,
            close_date=renewal.close_date,
            owner=renewal.owner,
        )
    opportunity.stage, opportunity.probability, opportunity.closed_on = Opportunity.Stage.WON, 100, today
    opportunity.revenue_entry = entry
    opportunity.save()
    return opportunity


@transaction.atomic
def lose_opportunity(opportunity: Opportunity, *, by: User | None, today: date, reason: str) -> Opportunity:
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if opportunity.stage != Opportunity.Stage.OPEN:
        raise ValidationError("This opportunity is already closed.")
    if not (reason or "").strip():
        raise ValidationError({"lost_reason": "Say why it was lost."})
    opportunity.stage, opportunity.probability, opportunity.closed_on = Opportunity.Stage.LOST, 0, today
    opportunity.lost_reason = reason.strip()[:300]
    opportunity.save()
    return opportunity


# --- Suggestions -----------------------------------------------------------------------------


@transaction.atomic
def accept_suggestion(
    suggestion: Suggestion,
    *,
    by: User | None,
    today: date,
    amount: Decimal,
    close_date: date,
    probability: int = 50,
    kind: str = "",
    title: str = "",
) -> Opportunity:
    """The CSM takes a suggestion up: it becomes an open opportunity carrying its reason."""
    suggestion = Suggestion.objects.select_for_update().select_related("account").get(pk=suggestion.pk)
    if suggestion.status != Suggestion.Status.NEW:
        raise ValidationError(f"This suggestion was already {suggestion.get_status_display().lower()}.")
    if close_date is not None and close_date < today:
        raise ValidationError({"close_date": "The expected close date cannot be in the past."})
    opportunity = create_opportunity(
        account=suggestion.account,
        kind=kind or suggestion.kind,
        title=title,
        amount=amount,
        close_date=close_date,
        probability=probability,
        by=by,
        reason=suggestion.reason,
    )
    suggestion.status, suggestion.decided_on, suggestion.decided_by = Suggestion.Status.ACCEPTED, today, by
    suggestion.opportunity = opportunity
    suggestion.save()
    return opportunity


@transaction.atomic
def dismiss_suggestion(suggestion: Suggestion, *, by: User | None, today: date, note: str = "") -> Suggestion:
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != Suggestion.Status.NEW:
        raise ValidationError(f"This suggestion was already {suggestion.get_status_display().lower()}.")
    suggestion.status, suggestion.decided_on, suggestion.decided_by = Suggestion.Status.DISMISSED, today, by
    suggestion.note = (note or "").strip()[:300]
    suggestion.save()
    return suggestion


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _raised(signal: str, period: object) -> Exists:
    """A suggestion already raised for the outer row's account, this signal and ``period`` (value or expression)."""
    return Exists(Suggestion.objects.filter(account_id=OuterRef("account_id"), signal=signal, period=period))


def _licence_signals(*, today: date) -> list[Suggestion]:
    """More than 90 % of licences in use on every snapshot of the last 30 days (docs/domain.md §10).

    Read from the high-use snapshots of the window only (a partial index holds them): an account
    that qualifies has every snapshot of the window high, so its first snapshot is a high one and
    the low ones are only looked up, by index, for the accounts not raised yet this quarter.
    """
    since = today - timedelta(days=LICENCE_DAYS)
    signal, period = Suggestion.Signal.LICENCES_FULL, _quarter(today)
    window = UsageSnapshot.objects.filter(date__gt=since, date__lte=today, licenses_purchased__gt=0)
    # 10 x active > 9 x purchased: "more than 90 %" in whole numbers.
    used = window.alias(active_x10=F("licenses_active") * 10, purchased_x9=F("licenses_purchased") * 9)
    # "No low snapshot in the window" as a count compared after grouping (HAVING): PostgreSQL then
    # counts the window's snapshots only for the accounts left, not hashing every low one of the book.
    in_window = window.filter(account_id=OuterRef("account_id")).order_by().values("account_id").annotate(n=Count("pk"))
    rows = (
        used.filter(active_x10__gt=F("purchased_x9"), account__in=Account.objects.active())
        .filter(~_raised(signal, period))
        .values("account_id")
        .annotate(first=Min("date"), high=Count("date"))
        .filter(first__lte=today - timedelta(days=LICENCE_DAYS - 2), high=Subquery(in_window.values("n")))
        .values_list("account_id", flat=True)
    )
    reason = f"More than 90 % of licences in use on every snapshot since {since + timedelta(days=1):%d %b %Y}."
    return [
        Suggestion(
            account_id=account_id,
            signal=signal,
            period=period,
            reason=reason,
            kind=Suggestion.KIND_FOR[signal],
            raised_on=today,
        )
        for account_id in rows.order_by()
    ]


def _entitlement_signals(*, today: date) -> list[Suggestion]:
    """A yearly entitlement used up within the running contract term: one grouped query over the book."""
    signal = Suggestion.Signal.ENTITLEMENT_USED_UP
    term = "account__contracts__"
    entitled = Case(
        *(When(kind=kind, then=F(f"{term}program__{field}")) for kind, field in ENTITLEMENT_FIELDS.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    # The running term's id as an annotation of the filtered join: the raised check below reads it
    # (an OuterRef through the relation would join the account's contracts a second time).
    period = Concat(Value("contract-"), Cast(OuterRef("term_id"), CharField()), Value("-"), OuterRef("kind"))
    rows = (
        EntitlementUse.objects.filter(
            kind__in=list(ENTITLEMENT_FIELDS),
            used_on__lte=today,
            used_on__gte=F(f"{term}starts_on"),
            account__in=Account.objects.active(),
            **{
                f"{term}status": Contract.Status.ACTIVE,
                f"{term}starts_on__lte": today,
                f"{term}ends_on__gte": today,
                f"{term}program__isnull": False,
            },
        )
        .annotate(term_id=F(f"{term}id"))
        .values("account_id", "kind", "term_id", f"{term}starts_on", f"{term}program__name")
        .annotate(used=Sum("quantity"), entitled=Max(entitled))
        .filter(entitled__gt=0, used__gte=F("entitled"))
        .filter(~_raised(signal, period))
        .order_by()
    )
    out = []
    for row in rows:
        label = ENTITLEMENT_PLURALS.get(row["kind"], row["kind"])
        out.append(
            Suggestion(
                account_id=row["account_id"],
                signal=signal,
                period=f"contract-{row['term_id']}-{row['kind']}",
                reason=f"{row['used'].normalize():f} of {row['entitled']} {label} used since "
                f"{row[f'{term}starts_on']:%d %b %Y} ({row[f'{term}program__name']} program): "
                "the entitlement is used up.",
                kind=Suggestion.KIND_FOR[signal],
                raised_on=today,
            )
        )
    return out


def _milestone_signals(*, today: date) -> list[Suggestion]:
    signal = Suggestion.Signal.MILESTONE_REACHED
    period = Concat(Value("milestone-"), Cast(OuterRef("pk"), CharField()))
    reached = (
        Milestone.objects.filter(
            status=Milestone.Status.REACHED,
            reached_on__gt=today - timedelta(days=MILESTONE_DAYS),
            reached_on__lte=today,
            objective__plan__account__in=Account.objects.active(),
        )
        .filter(
            ~Exists(
                Suggestion.objects.filter(
                    account_id=OuterRef("objective__plan__account_id"), signal=signal, period=period
                )
            )
        )
        .values_list("pk", "objective__plan__account_id", "title", "reached_on")
    )
    return [
        Suggestion(
            account_id=account_id,
            signal=signal,
            period=f"milestone-{pk}",
            reason=f"Milestone “{title}” reached on {reached_on:%d %b %Y}: the customer got value; what is next?"[:300],
            kind=Suggestion.KIND_FOR[signal],
            raised_on=today,
        )
        for pk, account_id, title, reached_on in reached.order_by()
    ]


def raise_suggestions(*, today: date) -> dict:
    """The daily job: each signal raises its suggestion once (unique account, signal, period).

    Each finder is one query that leaves out what was already raised, so a daily run reads and
    writes only the new suggestions (one insert per 2,000); the unique key settles a race.
    """
    counts = {}
    last = freshness.last_id(Suggestion.objects.all())
    for name, finder in (
        ("licences_full", _licence_signals),
        ("entitlement_used_up", _entitlement_signals),
        ("milestone_reached", _milestone_signals),
    ):
        found = finder(today=today)
        Suggestion.objects.bulk_create(found, batch_size=CHUNK, ignore_conflicts=True)
        counts[name] = len(found)
    if any(counts.values()):
        new = Suggestion.objects.filter(pk__gt=last)
        freshness.bump_changed(new.values_list("account__owner_id", flat=True).distinct())
    return counts


def suggest_for_promoter(*, account: Account, score: int, answered_on: date, answer_key: str) -> Suggestion | None:
    """A survey answer of 9 or 10 suggests a cross-sell, once per answer (called by the surveys hook)."""
    if score < PROMOTER_MIN or account.lifecycle_stage == Account.Stage.CHURNED:
        return None
    suggestion, _ = Suggestion.objects.get_or_create(
        account=account,
        signal=Suggestion.Signal.PROMOTER,
        period=f"survey-{answer_key}"[:60],
        defaults={
            "reason": f"A promoter answered the survey with {score} on {answered_on:%d %b %Y}.",
            "kind": Suggestion.KIND_FOR[Suggestion.Signal.PROMOTER],
            "raised_on": answered_on,
        },
    )
    return suggestion


# --- Renewal checkpoints -------------------------------------------------------------------


def checkpoint_points(program_id: int | None, schedules: dict[int | None, list[int]]) -> list[int]:
    if program_id in schedules:
        return schedules[program_id]
    return schedules.get(None) or list(DEFAULT_CHECKPOINTS)


def _schedules() -> dict[int | None, list[int]]:
    return {row.program_id: row.points() for row in CheckpointSchedule.objects.all()}


def automated_call(*, band: str | None, coverage: str, playbook_tasks: int, committed: bool) -> tuple[str, str]:
    """csm's risk call for a renewal (docs/domain.md §11): risk points from health, coverage and rules."""
    if committed:
        return Checkpoint.Call.LIKELY, "The customer has committed to renew."
    points, why = 0, list[str]()
    if band == HealthScore.Band.RED:
        points, why = points + 2, [*why, "health red (+2)"]
    elif band == HealthScore.Band.YELLOW:
        points, why = points + 1, [*why, "health yellow (+1)"]
    elif band is None:
        points, why = points + 1, [*why, "no current health score (+1)"]
    if coverage == Renewal.Coverage.NO_CONTACT:
        points, why = points + 2, [*why, "no renewal contact (+2)"]
    elif coverage == Renewal.Coverage.SINGLE_CONTACT:
        points, why = points + 1, [*why, "a single renewal contact (+1)"]
    if playbook_tasks:
        points, why = points + 1, [*why, f"{playbook_tasks} open playbook task(s) (+1)"]
    if points <= 1:
        call = Checkpoint.Call.LIKELY
    elif points <= 3:
        call = Checkpoint.Call.AT_RISK
    else:
        call = Checkpoint.Call.WILL_CHURN
    return call, f"{points} risk point(s): {', '.join(why) or 'nothing against it'}."


# What the checkpoint job reads of each due renewal (one row per renewal and point).
DUE_FIELDS = (
    "pk",
    "contract__account_id",
    "contract__account__name",
    "contract__account__owner_id",
    "owner_id",
    "contract__ends_on",
    "stage",
    "contact_coverage",
)


def _due_renewals(*, today: date, schedules: dict[int | None, list[int]]) -> list[tuple[dict, int]]:
    """Open renewals that passed a checkpoint not yet recorded: only the latest point passed.

    One pass per distinct schedule: each renewal's latest point passed is computed in the query
    (the nearest point at or after the days left), and the recorded checkpoints of that point are
    left out; ordered by the contract's end, so the T-90 rows come before the T-180 ones as before.
    """
    due = []
    groups: dict[tuple[int, ...], list[int | None]] = {}
    programs = list(Contract.objects.active().order_by().values_list("program_id", flat=True).distinct())
    for program_id in programs:
        groups.setdefault(tuple(checkpoint_points(program_id, schedules)), []).append(program_id)
    for points, program_ids in groups.items():
        ordered = sorted(points)  # e.g. 90, 180
        if not ordered:
            continue
        program_q = Q(contract__program_id__in=[p for p in program_ids if p is not None])
        if None in program_ids:
            program_q |= Q(contract__program__isnull=True)
        point = Case(
            *(When(contract__ends_on__lte=today + timedelta(days=p), then=Value(p)) for p in ordered),
            output_field=IntegerField(),
        )
        rows = (
            Renewal.objects.open()
            .filter(program_q, contract__status=Contract.Status.ACTIVE)
            .filter(
                contract__ends_on__gt=today - timedelta(days=1),
                contract__ends_on__lte=today + timedelta(days=ordered[-1]),
            )
            .annotate(point=point)
            .exclude(Exists(Checkpoint.objects.filter(renewal=OuterRef("pk"), days_before=OuterRef("point"))))
            .order_by("contract__ends_on", "pk")
            .values(*DUE_FIELDS, "point")
        )
        due += [(renewal, renewal.pop("point")) for renewal in rows]
    return due


def _record_chunk(chunk: list[tuple[dict, int]], *, today: date) -> int:
    """Checkpoints and the CSMs' tasks for up to CHUNK due renewals: six statements whatever the size."""
    account_ids = [r["contract__account_id"] for r, _ in chunk]
    bands = dict(
        HealthScore.objects.latest_run(today=today).filter(account_id__in=account_ids).values_list("account_id", "band")
    )
    tasks: dict[int, int] = {}
    for account_id in (
        Task.objects.open().filter(account_id__in=account_ids, rule__isnull=False).values_list("account_id", flat=True)
    ):
        tasks[account_id] = tasks.get(account_id, 0) + 1
    answered = set(
        RenewalAnswer.objects.filter(
            renewal_id__in=[r["pk"] for r, _ in chunk], kind=RenewalAnswer.Kind.PLAN_TO_RENEW
        ).values_list("renewal_id", flat=True)
    )
    checkpoints = []
    for renewal, point in chunk:
        account_id = renewal["contract__account_id"]
        call, why = automated_call(
            band=bands.get(account_id),
            coverage=renewal["contact_coverage"],
            playbook_tasks=tasks.get(account_id, 0),
            committed=renewal["stage"] == Renewal.Stage.COMMITTED or renewal["pk"] in answered,
        )
        checkpoints.append(
            Checkpoint(
                renewal_id=renewal["pk"],
                days_before=point,
                account_id=account_id,
                recorded_on=today,
                auto_call=call,
                auto_reason=why[:300],
                asked_of_id=renewal["owner_id"] or renewal["contract__account__owner_id"],
            )
        )
    # One checkpoint per (renewal, point): a concurrent run's rows are left alone and not asked twice.
    Checkpoint.objects.bulk_create(checkpoints, batch_size=CHUNK, ignore_conflicts=True)
    by_renewal = {r["pk"]: r for r, _ in chunk}
    recorded = Checkpoint.objects.filter(
        renewal_id__in=list(by_renewal), recorded_on=today, csm_call="", called_on__isnull=True
    ).values_list("pk", "renewal_id", "days_before", "auto_call", "auto_reason", "asked_of_id")
    call_label = dict(Checkpoint.Call.choices)
    opened = []
    for pk, renewal_id, point, auto_call, auto_reason, asked_of_id in recorded:
        renewal = by_renewal[renewal_id]
        opened.append(
            Task(
                account_id=renewal["contract__account_id"],
                assignee_id=asked_of_id,
                title=f"Renewal checkpoint T-{point}: make your call on {renewal['contract__account__name']}",
                due_on=today + timedelta(days=CALL_TASK_DAYS),
                key=Checkpoint(pk=pk).task_key,
                description=f"csm's automated call: {call_label[auto_call]} ({auto_reason}) "
                "Record yours (likely / at risk / will churn) with a note on the checkpoints page.",
                reason=f"The contract ends on {renewal['contract__ends_on']:%d %b %Y}: checkpoint T-{point}.",
                source=Task.Source.JOB,
                # The columns' database defaults, given: with no DEFAULT left in the rows, PostgreSQL
                # takes the 2,000 tasks as one UNNEST of arrays (a fraction of the VALUES list's cost).
                kind=Task.Kind.FOLLOW_UP,
                priority=Task.Priority.NORMAL,
                outcome="",
            )
        )
    # The partial unique index on open (account, key) tasks keeps playbooks.open_task's once-only rule.
    Task.objects.bulk_create(opened, batch_size=CHUNK, ignore_conflicts=True)
    return len(opened)


@transaction.atomic
def record_checkpoints(*, today: date) -> dict:
    """The daily job: record csm's call at each checkpoint passed and ask the CSM for theirs.

    Set-based: one query finds the due renewals per schedule point, then a fixed handful of
    statements per 2,000 of them. Safe to run twice: one checkpoint per (renewal, point), and the
    CSM's task has a key.
    """
    due = _due_renewals(today=today, schedules=_schedules())
    last = freshness.last_id(Checkpoint.objects.all())
    recorded = sum(_record_chunk(due[start : start + CHUNK], today=today) for start in range(0, len(due), CHUNK))
    if recorded:
        new = Checkpoint.objects.filter(pk__gt=last)
        changed = {*new.values_list("account__owner_id", flat=True), *new.values_list("asked_of_id", flat=True)}
        transaction.on_commit(lambda: freshness.bump_changed(changed))
    return {"checkpoints": recorded}


def managers_of(user: User | None) -> list[User]:
    if user is None:
        return []
    return [team.manager for team in Team.objects.filter(members=user).select_related("manager").order_by("name")]


@transaction.atomic
def record_csm_call(
    checkpoint: Checkpoint, *, call: str, note: str, by: User | None, today: date, now: datetime
) -> Checkpoint:
    """The CSM's call beside csm's (a note is required); a disagreement goes to their manager."""
    checkpoint = (
        Checkpoint.objects.select_for_update().select_related("renewal__contract", "account").get(pk=checkpoint.pk)
    )
    errors = {}
    if call not in Checkpoint.Call.values:
        errors["call"] = "Choose likely, at risk or will churn."
    if not (note or "").strip():
        errors["note"] = "Say why: the note is required."
    if errors:
        raise ValidationError(errors)
    if not checkpoint.renewal.is_open:
        raise ValidationError("The renewal has closed; its checkpoints can no longer change.")
    checkpoint.csm_call, checkpoint.csm_note = call, note.strip()
    checkpoint.called_by, checkpoint.called_on = by, today
    checkpoint.save()
    task = Task.objects.open().filter(account=checkpoint.account, key=checkpoint.task_key).first()
    if task is not None:
        playbook_services.complete_task(task, by=by, now=now, outcome=f"Call: {checkpoint.get_csm_call_display()}")
    if checkpoint.disagrees and checkpoint.escalated_to_id is None:
        for manager in managers_of(checkpoint.asked_of or by):
            if manager == by:
                continue
            playbook_services.open_task(
                account=checkpoint.account,
                title=f"Checkpoint disagreement on {checkpoint.account.name}: csm says "
                f"{checkpoint.get_auto_call_display().lower()}, the CSM says "
                f"{checkpoint.get_csm_call_display().lower()}",
                due_on=today + timedelta(days=7),
                key=f"growth:checkpoint-disagreement:{checkpoint.pk}",
                assignee=manager,
                description=f"csm: {checkpoint.auto_reason}\nCSM's note: {checkpoint.csm_note}",
                reason=f"T-{checkpoint.days_before} renewal checkpoint: the two calls differ.",
                source=Task.Source.JOB,
            )
            checkpoint.escalated_to = manager
            checkpoint.save(update_fields=["escalated_to"])
            break
    return checkpoint
