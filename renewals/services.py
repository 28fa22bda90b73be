"""Contracts, the renewal pipeline, the revenue ledger and renewal notices.

Notices follow "send once, in effect" (docs/architecture.md): the RenewalNotice table is the outbox,
planned by a set-based upsert on unique keys, claimed by a conditional UPDATE before any
send, published after commit, and swept when a message or a worker goes missing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from accounts import stages
from accounts.models import Account, Contact, Program
from csm import freshness, operations

from . import delivery, emails, signals
from .models import Contract, NoticeSchedule, ReasonCode, Renewal, RenewalNotice, RevenueEntry

DEFAULT_LEAD_DAYS = 60  # docs/domain.md §8: at least two months ahead, for contracts without a program.
DEFAULT_FOLLOW_UPS = (30, 14)
# A send that has not finished this long after its claim was cut short (worker killed).
# Retries back off at most 10 minutes, so a pending row older than this lost its message.
STUCK_AFTER = timedelta(minutes=15)
# Publish at most this many sends per planning run; the sweeper publishes the rest in batches,
# so a first run over a large book does not flood the broker inside one job.
ENQUEUE_LIMIT = 2000
SWEEP_BATCH = 2000
PLAN_CHUNK = 2000  # due contracts per statement: 8,000 parameters, inside SQLite's limit


# --- Contracts, renewals and the revenue ledger --------------------------------------------


def _revenue_of(account: Account, *, on: date) -> Decimal:
    total = RevenueEntry.objects.filter(account=account, effective_on__lte=on).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _stage_changed(renewal: Renewal, old_stage: str, by: User | None) -> None:
    if old_stage != renewal.stage:
        transaction.on_commit(
            lambda: signals.renewal_stage_changed.send(
                sender=Renewal, renewal=renewal, old_stage=old_stage, new_stage=renewal.stage, by=by
            )
        )


def _require_reason(reason: ReasonCode | None, *, applies: str) -> None:
    if reason is None:
        raise ValidationError({"reason": "Choose a reason: why is the customer not renewing in full?"})
    if not reason.is_active or reason.applies_to not in (applies, ReasonCode.Applies.BOTH):
        raise ValidationError({"reason": f"“{reason.label}” is not a reason for this outcome."})


@transaction.atomic
def create_contract(
    *,
    account: Account,
    starts_on: date,
    ends_on: date,
    amount: Decimal,
    by: User | None,
    program: Program | None = None,
    currency: str = "USD",
    auto_renew: bool = False,
) -> Contract:
    """Record a new contract term with its renewal and its revenue: a new logo, or an expansion."""
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": "The contract must end after it starts."})
    if amount < 0:
        raise ValidationError({"amount": "The recurring amount cannot be negative."})
    already_paying = _revenue_of(account, on=starts_on) > 0
    contract = Contract.objects.create(
        account=account,
        program=program if program is not None else account.program,
        starts_on=starts_on,
        ends_on=ends_on,
        recurring_amount=amount,
        currency=currency,
        auto_renew=auto_renew,
    )
    Renewal.objects.create(contract=contract, owner=account.owner, forecast_amount=amount, close_date=ends_on)
    stages.move_stage(
        account,
        to=Account.Stage.ONBOARDING,
        on=starts_on,
        reason="New contract after churn",
        by=by,
        only_from=(Account.Stage.CHURNED,),
    )
    if amount > 0:
        RevenueEntry.objects.create(
            account=account,
            contract=contract,
            kind=RevenueEntry.Kind.EXPANSION if already_paying else RevenueEntry.Kind.NEW,
            amount=amount,
            currency=currency,
            effective_on=starts_on,
            note="Additional contract" if already_paying else "New customer",
        )
    return contract


@transaction.atomic
def change_contract_amount(
    contract: Contract,
    *,
    amount: Decimal,
    effective_on: date,
    by: User | None,
    reason: ReasonCode | None = None,
    note: str = "",
) -> RevenueEntry | None:
    """Change a running term's recurring amount mid-term: an expansion or a contraction."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError("Only an active contract can change its amount.")
    if amount < 0:
        raise ValidationError({"amount": "The recurring amount cannot be negative."})
    if not contract.starts_on <= effective_on <= contract.ends_on:
        # A ledger entry outside the term would count in periods the contract never covered.
        raise ValidationError(
            {"effective_on": f"The change must fall within the term, {contract.starts_on} to {contract.ends_on}."}
        )
    delta = amount - contract.recurring_amount
    if delta == 0:
        return None
    if delta < 0:
        _require_reason(reason, applies=ReasonCode.Applies.DOWNGRADE)
    contract.recurring_amount = amount
    contract._change_reason = note[:100] or "amount changed"  # type: ignore[attr-defined]  # read by simple_history
    contract.save(update_fields=["recurring_amount"])
    return RevenueEntry.objects.create(
        account=contract.account,
        contract=contract,
        kind=RevenueEntry.Kind.EXPANSION if delta > 0 else RevenueEntry.Kind.CONTRACTION,
        amount=delta,
        currency=contract.currency,
        effective_on=effective_on,
        reason=reason,
        note=note[:300],
    )


@transaction.atomic
def advance_renewal(renewal: Renewal, *, stage: str, by: User | None) -> Renewal:
    """Move an open renewal between open stages; closing goes through renew/lose."""
    renewal = Renewal.objects.select_for_update().get(pk=renewal.pk)
    if not renewal.is_open:
        raise ValidationError("This renewal is closed; it cannot change stage.")
    if stage not in Renewal.OPEN_STAGES:
        raise ValidationError({"stage": "Close a renewal by renewing the contract or marking it lost."})
    old_stage = renewal.stage
    renewal.stage = stage
    renewal.save(update_fields=["stage", "updated_at"])
    _stage_changed(renewal, old_stage, by)
    return renewal


@transaction.atomic
def update_renewal(
    renewal: Renewal,
    *,
    by: User | None,
    forecast_amount: Decimal | None,
    uplift_pct: Decimal,
    probability: int,
    close_date: date | None,
    owner: User | None,
) -> Renewal:
    renewal = Renewal.objects.select_for_update().select_related("contract").get(pk=renewal.pk)
    if not renewal.is_open:
        raise ValidationError("This renewal is closed.")
    if not 0 <= probability <= 100:
        raise ValidationError({"probability": "Probability is a percentage from 0 to 100."})
    if forecast_amount is not None and forecast_amount < 0:
        raise ValidationError({"forecast_amount": "The forecast cannot be negative."})
    if uplift_pct <= -100:
        raise ValidationError({"uplift_pct": "An uplift of -100 % or less is a loss, not a renewal."})
    # Without an explicit forecast, the current amount with its uplift is the forecast.
    if forecast_amount is None:
        forecast_amount = (renewal.contract.recurring_amount * (1 + uplift_pct / 100)).quantize(Decimal("0.01"))
    renewal.forecast_amount = forecast_amount
    renewal.uplift_pct = uplift_pct
    renewal.probability = probability
    renewal.close_date = close_date
    renewal.owner = owner
    renewal.save()
    return renewal


def _cancel_pending_notices(contract: Contract) -> None:
    RenewalNotice.objects.filter(contract=contract, status=RenewalNotice.Status.PENDING).update(
        status=RenewalNotice.Status.SKIPPED, last_error="renewal closed before sending"
    )


@transaction.atomic
def renew_contract(
    contract: Contract,
    *,
    ends_on: date,
    amount: Decimal,
    by: User | None,
    today: date,
    reason: ReasonCode | None = None,
    notes: str = "",
    starts_on: date | None = None,
    on_terms: bool = False,
) -> Contract:
    """Close the renewal as renewed, expanded or downgraded and create the next term.

    A lower amount is a downgrade and needs a reason, unless the contract renews ``on_terms``
    (an auto-renewal with a negative uplift agreed before); the revenue ledger records the
    difference on the day the new term starts. A contract that lapsed can still be renewed
    (a late close): its lapse churn is reversed, so the term continues in the ledger.
    """
    contract = Contract.objects.select_for_update().select_related("account").get(pk=contract.pk)
    renewal, _ = Renewal.objects.select_for_update().get_or_create(
        contract=contract, defaults={"owner": contract.account.owner, "forecast_amount": contract.recurring_amount}
    )
    lapse = lapse_to_reverse(contract, renewal)
    if lapse is None and (contract.status != Contract.Status.ACTIVE or not renewal.is_open):
        raise ValidationError("This contract has already been renewed or closed.")
    if amount <= 0:
        raise ValidationError({"amount": "A renewal has a positive amount; mark the renewal lost instead."})
    starts_on = starts_on or contract.ends_on + timedelta(days=1)
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": "The new term must end after it starts."})
    delta = amount - contract.recurring_amount
    if delta < 0:
        if not on_terms:
            _require_reason(reason, applies=ReasonCode.Applies.DOWNGRADE)
        stage = Renewal.Stage.DOWNGRADED
    else:
        stage = Renewal.Stage.EXPANDED if delta > 0 else Renewal.Stage.RENEWED

    next_term = Contract.objects.create(
        account=contract.account,
        program=contract.program,
        starts_on=starts_on,
        ends_on=ends_on,
        recurring_amount=amount,
        currency=contract.currency,
        auto_renew=contract.auto_renew,
        previous=contract,
    )
    Renewal.objects.create(
        contract=next_term, owner=renewal.owner or contract.account.owner, forecast_amount=amount, close_date=ends_on
    )
    contract.status = Contract.Status.RENEWED
    contract.save(update_fields=["status"])

    old_stage = renewal.stage
    renewal.stage = stage
    renewal.closed_on = today
    renewal.reason = reason if delta < 0 else None
    renewal.reason_notes = notes
    renewal.forecast_amount = amount
    renewal.probability = 100
    renewal.save()
    _stage_changed(renewal, old_stage, by)
    _cancel_pending_notices(contract)
    stages.move_stage(
        contract.account,
        to=Account.Stage.ADOPTION,
        on=today,
        reason="Renewed late" if lapse is not None else "Renewed",
        by=by,
        only_from=(Account.Stage.RENEWAL, Account.Stage.CHURNED),
    )
    if lapse is not None and lapse.pk:
        RevenueEntry.objects.create(
            account=contract.account,
            contract=contract,
            kind=lapse.kind,
            amount=-lapse.amount,
            currency=lapse.currency,
            effective_on=lapse.effective_on,
            reason=lapse.reason,
            reverses=lapse,
            note=f"Lapse reversed: renewed late on {today:%d %b %Y}",
        )

    if delta:
        RevenueEntry.objects.create(
            account=contract.account,
            contract=next_term,
            kind=RevenueEntry.Kind.EXPANSION if delta > 0 else RevenueEntry.Kind.CONTRACTION,
            amount=delta,
            currency=contract.currency,
            effective_on=starts_on,
            reason=renewal.reason,
            note=notes[:300],
        )
    return next_term


def lapse_to_reverse(contract: Contract, renewal: Renewal) -> RevenueEntry | None:
    """The churn a lapse recorded for ``contract``, while no late renewal has reversed it."""
    if contract.status != Contract.Status.EXPIRED or renewal.stage != Renewal.Stage.LOST:
        return None
    # "lapsed" is renewals.lifecycle.LAPSED, the reason only the lifecycle job gives.
    if renewal.reason is None or renewal.reason.code != "lapsed" or hasattr(contract, "next_term"):
        return None
    return RevenueEntry.objects.filter(
        contract=contract, kind=RevenueEntry.Kind.CHURN, reverses__isnull=True, reversal__isnull=True
    ).first() or RevenueEntry(account=contract.account, kind=RevenueEntry.Kind.CHURN, amount=Decimal("0"))


@transaction.atomic
def mark_renewal_lost(
    renewal: Renewal, *, reason: ReasonCode | None, notes: str, by: User | None, today: date
) -> Renewal:
    """The customer will not renew: close the renewal with its reason and record the churn."""
    renewal = Renewal.objects.select_for_update().select_related("contract__account").get(pk=renewal.pk)
    if not renewal.is_open:
        raise ValidationError("This renewal is already closed.")
    _require_reason(reason, applies=ReasonCode.Applies.LOSS)
    contract = renewal.contract
    old_stage = renewal.stage
    renewal.stage = Renewal.Stage.LOST
    renewal.closed_on = today
    renewal.reason = reason
    renewal.reason_notes = notes
    renewal.probability = 0
    renewal.save()
    _stage_changed(renewal, old_stage, by)
    _cancel_pending_notices(contract)
    record_churn(contract, reason=reason, note=notes[:300])
    return renewal


def record_churn(contract: Contract, *, reason: ReasonCode | None, note: str) -> None:
    """The ledger's churn entry for a contract that ends without a renewal (lost or lapsed)."""
    if contract.recurring_amount > 0:
        RevenueEntry.objects.create(
            account_id=contract.account_id,
            contract=contract,
            kind=RevenueEntry.Kind.CHURN,
            amount=-contract.recurring_amount,
            currency=contract.currency,
            # Revenue stops the day after the last paid day.
            effective_on=contract.ends_on + timedelta(days=1),
            reason=reason,
            note=note,
        )


# --- Planning notices ----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Contracts ending ``low``..``high`` days from today get the notice ``cycle``."""

    cycle: str
    low: int
    high: int
    stages: tuple[str, ...]


@dataclass
class ScheduleGroup:
    lead_days: int
    follow_ups: tuple[int, ...]
    program_ids: list[int]
    without_program: bool = False

    def windows(self) -> list[Window]:
        """Consecutive, non-overlapping windows: on any day a contract is due for one cycle at most.

        A day the job did not run is caught up the next day, since the window is still open;
        a contract that enters late gets the notice of the window it is in, not a backlog.
        """
        follow_ups = [days for days in self.follow_ups if days < self.lead_days]
        bounds = [self.lead_days, *follow_ups]
        result = []
        for index, high in enumerate(bounds):
            low = bounds[index + 1] + 1 if index + 1 < len(bounds) else 0
            if index == 0:
                result.append(Window(RenewalNotice.FIRST, low, high, tuple(Renewal.OPEN_STAGES)))
            else:
                result.append(Window(f"follow-up-{high}", low, high, tuple(Renewal.FOLLOW_UP_STAGES)))
        return result


def schedule_groups() -> list[ScheduleGroup]:
    """Programs grouped by identical schedules, so planning costs one statement per window."""
    schedules = {row.program_id: row for row in NoticeSchedule.objects.all()}
    default = schedules.get(None)
    default_follow_ups = tuple(default.follow_ups()) if default else DEFAULT_FOLLOW_UPS
    groups: dict[tuple, ScheduleGroup] = {}

    def group_for(lead: int, schedule: NoticeSchedule | None) -> ScheduleGroup | None:
        if schedule is not None and not schedule.is_active:
            return None
        follow_ups = tuple(schedule.follow_ups()) if schedule else default_follow_ups
        key = (lead, follow_ups)
        return groups.setdefault(key, ScheduleGroup(lead, follow_ups, []))

    for program_id, lead in Program.objects.values_list("pk", "renewal_notice_lead_days"):
        group = group_for(max(lead, DEFAULT_LEAD_DAYS), schedules.get(program_id) or default)
        if group:
            group.program_ids.append(program_id)
    group = group_for(DEFAULT_LEAD_DAYS, default)
    if group:
        group.without_program = True
    return list(groups.values())


def _program_filter(group: ScheduleGroup) -> tuple[str, list]:
    parts, params = [], []
    if group.program_ids:
        parts.append(f"c.program_id IN ({', '.join(['%s'] * len(group.program_ids))})")
        params += group.program_ids
    if group.without_program:
        parts.append("c.program_id IS NULL")
    return "(" + " OR ".join(parts or ["1 = 0"]) + ")", params


# Who is eligible: ContactQuerySet.renewal_recipients as SQL, with the roles from Contact itself.
ELIGIBLE_CONTACT_SQL = f"""
    ct.email <> '' AND ct.email_opt_out = %s AND ct.email_bad_at IS NULL AND (ct.left_on IS NULL OR ct.left_on > %s)
    AND ({" OR ".join(f"ct.{field}" for field in Contact.RENEWAL_ROLE_FIELDS)})
"""


def _placeholders(values: list | tuple) -> str:
    return ", ".join(["%s"] * len(values))


def _ensure_renewals(*, today: date, horizon: date, now: datetime) -> int:
    """Every contract the planner looks at has a renewal: insert missing ones (e.g. imports).

    Contracts made through the services get theirs at creation; this covers rows written
    around them, within the planning horizon only so the statement stays cheap.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO renewals_renewal
                (contract_id, stage, owner_id, forecast_amount, uplift_pct, probability, close_date,
                 reason_notes, contact_coverage, updated_at)
            SELECT c.id, %s, a.owner_id, c.recurring_amount, 0, 50, c.ends_on, '', '', %s
            FROM renewals_contract c
            JOIN accounts_account a ON a.id = c.account_id
            LEFT JOIN renewals_renewal r ON r.contract_id = c.id
            WHERE c.status = %s AND c.ends_on >= %s AND c.ends_on <= %s AND r.id IS NULL
            ON CONFLICT DO NOTHING
            """,
            [Renewal.Stage.UPCOMING, now, Contract.Status.ACTIVE, today, horizon],
        )
        return cursor.rowcount


def _cycle_case(groups: list[ScheduleGroup], *, today: date) -> tuple[str, list]:
    """A CASE naming the notice cycle each contract is due for today, NULL when none."""
    whens, params = [], []
    for group in groups:
        program_sql, program_params = _program_filter(group)
        for window in group.windows():
            whens.append(
                f"WHEN {program_sql} AND c.ends_on >= %s AND c.ends_on <= %s "
                f"AND r.stage IN ({_placeholders(window.stages)}) THEN %s"
            )
            params += [
                *program_params,
                today + timedelta(days=window.low),
                today + timedelta(days=window.high),
                *window.stages,
                window.cycle,
            ]
    return "CASE " + " ".join(whens) + " END", params


def _due_contracts(groups: list[ScheduleGroup], *, today: date, horizon: date) -> list[tuple]:
    """(contract, account, renewal, cycle, coverage) for contracts to look at today.

    A contract is due when its current cycle has no notice yet (the day it enters a window,
    or the first day after a missed one), and every day while its renewal reaches fewer
    than two people: the CSM was asked to add contacts, and the ones added get the notice
    of the running cycle the next day. Everything else was settled on an earlier day, so a
    daily run reads a few thousand contracts, not the whole window.
    """
    cycle_sql, cycle_params = _cycle_case(groups, today=today)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT due.contract_id, due.account_id, due.renewal_id, due.cycle, due.contact_coverage
            FROM (
                SELECT c.id AS contract_id, c.account_id, r.id AS renewal_id, r.contact_coverage,
                       {cycle_sql} AS cycle
                FROM renewals_contract c
                JOIN renewals_renewal r ON r.contract_id = c.id
                WHERE c.status = %s AND c.ends_on >= %s AND c.ends_on <= %s
            ) due
            WHERE due.cycle IS NOT NULL AND (due.contact_coverage <> %s OR NOT EXISTS (
                SELECT 1 FROM renewals_renewalnotice n WHERE n.contract_id = due.contract_id AND n.cycle = due.cycle
            ))
            ORDER BY due.contract_id
            """,  # noqa: S608 - only placeholders and fixed fragments are interpolated.
            [*cycle_params, Contract.Status.ACTIVE, today, horizon, Renewal.Coverage.OK],
        )
        return cursor.fetchall()


def _values(rows: list[tuple]) -> tuple[str, list]:
    """A VALUES list of (contract, account, renewal, cycle) rows: columns column1..column4."""
    sql = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    return f"(VALUES {sql}) AS due", [value for row in rows for value in row[:4]]


def _insert_notices(due: list[tuple], *, today: date, now: datetime) -> list[int]:
    """One set-based upsert per chunk: a row per due contract and distinct eligible address.

    ON CONFLICT DO NOTHING on the unique keys makes a second run, or a second beat running
    at the same moment, insert nothing.
    """
    values_sql, values_params = _values(due)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO renewals_renewalnotice
                (contract_id, renewal_id, contact_id, cycle, email, status, scheduled_on, attempts,
                 last_error, message_id, created_at, updated_at)
            SELECT due.column1, due.column3, MIN(ct.id), due.column4, LOWER(ct.email), %s, %s, 0, '', '', %s, %s
            FROM {values_sql}
            JOIN accounts_contact ct ON ct.account_id = due.column2
            WHERE {ELIGIBLE_CONTACT_SQL}
            GROUP BY due.column1, due.column3, due.column4, LOWER(ct.email)
            ON CONFLICT DO NOTHING
            RETURNING id
            """,  # noqa: S608 - only placeholders and fixed fragments are interpolated.
            [RenewalNotice.Status.PENDING, today, now, now, *values_params, False, today],
        )
        return [row[0] for row in cursor.fetchall()]


def _coverage_changes(due: list[tuple], *, today: date) -> list[tuple[int, str]]:
    """(renewal, new coverage) for due renewals whose count of eligible addresses changed class."""
    values_sql, values_params = _values(due)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT due.column3, COUNT(DISTINCT LOWER(ct.email))
            FROM {values_sql}
            LEFT JOIN accounts_contact ct ON ct.account_id = due.column2 AND {ELIGIBLE_CONTACT_SQL}
            GROUP BY due.column3
            """,  # noqa: S608 - only placeholders and fixed fragments are interpolated.
            [*values_params, False, today],
        )
        counts = dict(cursor.fetchall())
    changed = []
    for _, _, renewal_id, _, current in due:
        eligible = counts.get(renewal_id, 0)
        coverage = (
            Renewal.Coverage.OK
            if eligible >= 2
            else Renewal.Coverage.SINGLE_CONTACT
            if eligible == 1
            else Renewal.Coverage.NO_CONTACT
        )
        if coverage != current:
            changed.append((renewal_id, coverage.value))
    return changed


@transaction.atomic
def plan_renewal_notices(*, today: date, now: datetime, publish: bool = True) -> dict:
    """Plan every notice due as of ``today`` and publish the sends after commit.

    ``publish=False`` leaves every new row to the sweeper (demo data marks them sent itself).
    """
    groups = schedule_groups()
    if not groups:
        return {"renewals_created": 0, "notices_planned": 0, "published": 0, "coverage_changes": {}}
    horizon = today + timedelta(days=max(group.lead_days for group in groups))
    renewals_created = _ensure_renewals(today=today, horizon=horizon, now=now)
    due = _due_contracts(groups, today=today, horizon=horizon)
    planned: list[int] = []
    changed: list[tuple[int, str]] = []
    for start in range(0, len(due), PLAN_CHUNK):
        chunk = due[start : start + PLAN_CHUNK]
        planned += _insert_notices(chunk, today=today, now=now)
        changed += _coverage_changes(chunk, today=today)
    by_coverage: dict[str, list[int]] = {}
    for renewal_id, coverage in changed:
        by_coverage.setdefault(coverage, []).append(renewal_id)
    for coverage, ids in by_coverage.items():
        for start in range(0, len(ids), PLAN_CHUNK):
            Renewal.objects.filter(pk__in=ids[start : start + PLAN_CHUNK]).update(contact_coverage=coverage)
    # Sent inside this transaction: receivers (playbooks opens the CSM's tasks) write in it and
    # let errors through, because the planner reports each coverage change only once.
    responses: Sequence[tuple[object, object]] = (
        signals.renewal_coverage_changed.send(sender=Renewal, changed=changed, today=today) if changed else []
    )
    tasks_opened = sum(response for _, response in responses if isinstance(response, int))
    corrected = _replan_corrected_addresses(today=today, now=now)
    planned += corrected
    published = planned[:ENQUEUE_LIMIT] if publish else []
    if published:
        _publish_after_commit(published, now=now)
    return {
        "renewals_created": renewals_created,
        "contracts_due": len(due),
        "notices_planned": len(planned),
        "published": len(published),
        "coverage_changes": {coverage: len(ids) for coverage, ids in by_coverage.items()},
        "tasks_opened": tasks_opened,
        "addresses_corrected": len(corrected),
    }


def _replan_corrected_addresses(*, today: date, now: datetime) -> list[int]:
    """Failed or bounced notices whose contact now has another address: pending again, to it.

    The unique (contract, cycle, contact) key would otherwise keep the planner from ever
    planning the corrected contact, also when they are a renewal's only contact. Problem rows
    are few, so this reads them one by one.
    """
    rows = (
        RenewalNotice.objects.filter(
            status__in=RenewalNotice.UNDELIVERED,
            contract__status=Contract.Status.ACTIVE,
            contract__ends_on__gte=today,
            renewal__stage__in=Renewal.OPEN_STAGES,
        )
        .filter(contact__in=Contact.objects.renewal_recipients(today=today))
        .select_related("contact")
    )
    replanned = []
    for notice in rows:
        current = notice.contact.email.strip().lower()
        if current == notice.email or _address_taken(notice, current):
            continue
        RenewalNotice.objects.filter(pk=notice.pk, status=notice.status).update(
            status=RenewalNotice.Status.PENDING,
            email=current,
            attempts=0,
            enqueued_at=None,
            claimed_at=None,
            handed_over_at=None,
            last_error=f"address corrected from {notice.email}"[:500],
            updated_at=now,
        )
        replanned.append(notice.pk)
    return replanned


def _address_taken(notice: RenewalNotice, email: str) -> bool:
    """Another notice of this cycle already goes to ``email`` (one email per address and cycle)."""
    return (
        RenewalNotice.objects.filter(contract_id=notice.contract_id, cycle=notice.cycle, email=email)
        .exclude(pk=notice.pk)
        .exists()
    )


def _publish_after_commit(notice_ids: list[int], *, now: datetime) -> None:
    """After commit, publish each send and only then mark the row enqueued.

    A row whose publish failed keeps ``enqueued_at`` empty, so the next sweep (minutes, not
    STUCK_AFTER) publishes it; the first failure stops the loop, since the broker is away.
    """
    from . import tasks

    def publish() -> None:
        done: list[int] = []
        started = timezone.now()
        try:
            for notice_id in notice_ids:
                tasks.send_renewal_notice.delay(notice_id)
                done.append(notice_id)
        finally:
            # Marked after the fact; a row a worker has touched since (claimed, sent, or put
            # back to wait) keeps what the worker wrote.
            for start in range(0, len(done), PLAN_CHUNK):
                RenewalNotice.objects.filter(
                    pk__in=done[start : start + PLAN_CHUNK],
                    status=RenewalNotice.Status.PENDING,
                    updated_at__lte=max(started, now),
                ).update(enqueued_at=now)

    # robust: a broker that is down must not fail the caller; the rows wait and the sweeper
    # publishes them later.
    transaction.on_commit(publish, robust=True)


# --- Sending -----------------------------------------------------------------------------


def _still_eligible(notice: RenewalNotice, *, today: date) -> str:
    """Why the notice must not go out any more, or '' when it still should."""
    eligible = Contact.objects.filter(pk=notice.contact_id).renewal_recipients(today=today).exists()
    if not eligible:
        return "contact left, opted out or lost the renewal role before sending"
    if notice.contract.status != Contract.Status.ACTIVE:
        return "contract no longer active"
    stages = Renewal.OPEN_STAGES if notice.cycle == RenewalNotice.FIRST else Renewal.FOLLOW_UP_STAGES
    if notice.renewal.stage not in stages:
        return f"renewal is {notice.renewal.get_stage_display().lower()}"
    return ""


def _follow_current_address(notice: RenewalNotice, *, now: datetime) -> str:
    """Send to the contact's address of now, not of planning time (a corrected bounce).

    Returns why not to send: the corrected address already has this cycle's notice.
    """
    current = notice.contact.email.strip().lower()
    if not current or current == notice.email:
        return ""
    if _address_taken(notice, current):
        return f"{current} already has this notice"
    RenewalNotice.objects.filter(pk=notice.pk).update(email=current, updated_at=now)
    notice.email = current
    return ""


def _tell_csm_about_failure(notice: RenewalNotice, *, error: str, today: date) -> None:
    # Inside the transaction that marks the notice failed (playbooks opens the CSM's task in it);
    # after commit, the event for playbook rules.
    signals.notice_marked_failed.send(sender=RenewalNotice, notice=notice, error=error, today=today)
    transaction.on_commit(lambda: signals.notice_failed.send(sender=RenewalNotice, notice=notice, error=error))


@transaction.atomic
def _fail(notice: RenewalNotice, *, status: str, error: str, now: datetime) -> None:
    RenewalNotice.objects.filter(pk=notice.pk).update(status=status, last_error=error[:500], updated_at=now)
    notice.status = status
    notice.last_error = error[:500]
    _tell_csm_about_failure(notice, error=error, today=timezone.localtime(now).date())


@transaction.atomic
def _mark_sent(notice: RenewalNotice, *, now: datetime, by: User | None = None) -> None:
    RenewalNotice.objects.filter(pk=notice.pk).update(
        status=RenewalNotice.Status.SENT,
        sent_at=now,
        last_error="",
        next_attempt_at=None,
        failing_since=None,
        updated_at=now,
    )
    renewal = Renewal.objects.select_for_update().get(pk=notice.renewal_id)
    if renewal.stage == Renewal.Stage.UPCOMING:
        renewal.stage = Renewal.Stage.NOTIFIED
        renewal._change_reason = "renewal notice sent"  # type: ignore[attr-defined]  # read by simple_history
        renewal.save(update_fields=["stage", "updated_at"])
        _stage_changed(renewal, Renewal.Stage.UPCOMING, by)


PAUSED = "smtp:paused"
OUTAGE = "smtp:outage"


def _retry_delay(attempts: int) -> timedelta:
    base = settings.NOTICE_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTICE_RETRY_MAX_SECONDS))


def _wait_for_server(notice: RenewalNotice, *, error: str, now: datetime) -> str:
    """The server is away (4xx, no connection): keep the notice pending with a later attempt.

    Mail servers retry for days; a notice fails only after NOTICE_MAX_DELAY_HOURS of this.
    One alert for an administrator when it lasts longer than NOTICE_OUTAGE_ALERT_MINUTES,
    not a task per recipient.
    """
    since = notice.failing_since or now
    if now - since >= timedelta(hours=settings.NOTICE_MAX_DELAY_HOURS):
        _fail(
            notice,
            status=RenewalNotice.Status.FAILED,
            error=f"mail server away since {since:%Y-%m-%d %H:%M}: {error}",
            now=now,
        )
        return "failed"
    RenewalNotice.objects.filter(pk=notice.pk, status=RenewalNotice.Status.SENDING).update(
        status=RenewalNotice.Status.PENDING,
        claimed_at=None,
        handed_over_at=None,
        enqueued_at=None,
        failing_since=since,
        next_attempt_at=now + _retry_delay(notice.attempts),
        last_error=error[:500],
        updated_at=now,
    )
    if now - since >= timedelta(minutes=settings.NOTICE_OUTAGE_ALERT_MINUTES):
        operations.open_alert(
            key=OUTAGE,
            title="The mail server is not accepting renewal notices; they are delayed, not failed",
            detail=f"Since {since:%Y-%m-%d %H:%M}. Last error: {error[:300]}",
            now=now,
        )
    return "delayed"


def _pause_sending(notice: RenewalNotice, *, error: str, now: datetime) -> str:
    """The relay refused us, not the recipient: the notice waits, sending pauses, admins are told once."""
    RenewalNotice.objects.filter(pk=notice.pk, status=RenewalNotice.Status.SENDING).update(
        status=RenewalNotice.Status.PENDING,
        claimed_at=None,
        handed_over_at=None,
        enqueued_at=None,
        attempts=F("attempts") - 1,  # not this notice's attempt: none was made for it
        last_error=f"sending paused: {error}"[:500],
        updated_at=now,
    )
    operations.open_alert(
        key=PAUSED,
        title="Sending is paused: the mail relay refused the sender or the session",
        detail=f"{error[:400]}. Notices wait; sending resumes once the relay accepts the sender again.",
        now=now,
    )
    return "paused"


def _mail_is_flowing(now: datetime) -> None:
    operations.resolve_alert(key=OUTAGE, now=now)
    operations.resolve_alert(key=PAUSED, now=now)


def probe_paused_sending(*, now: datetime) -> bool:
    """While sending is paused, ask the relay whether it takes our sender again; True: resumed."""
    if not operations.is_open(PAUSED):
        return True
    try:
        emails.probe()
    except (emails.ServerRefusedError, emails.TransientSendError):
        return False
    operations.resolve_alert(key=PAUSED, now=now)
    return True


def send_renewal_notice(*, notice_id: int, now: datetime) -> str:
    """Claim the notice, send it, record the outcome; return what happened.

    Not one transaction on purpose: each step commits on its own so a crash leaves the row
    in a state that says how far it got (``sending`` without ``handed_over_at``: nothing
    reached the server; with it: unknown, a person reviews).
    """
    if operations.is_open(PAUSED):
        # The sweeper publishes the row again once a probe finds the relay accepting us.
        RenewalNotice.objects.filter(pk=notice_id, status=RenewalNotice.Status.PENDING).update(enqueued_at=None)
        return "paused"
    # The claim: 0 rows when another worker has it or it is already done. Then do nothing.
    claimed = RenewalNotice.objects.filter(pk=notice_id, status=RenewalNotice.Status.PENDING).update(
        status=RenewalNotice.Status.SENDING,
        claimed_at=now,
        handed_over_at=None,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return "not claimed"
    notice = RenewalNotice.objects.select_related(
        "contract__account__owner", "contract__program", "renewal__owner", "contact"
    ).get(pk=notice_id)
    try:
        return _send_claimed(notice, now=now)
    finally:
        # Whatever the outcome, the notice's status changed: its owners' pages show it (csm/freshness.py).
        freshness.bump({notice.contract.account.owner_id, notice.renewal.owner_id} - {None})  # type: ignore[arg-type]  # None was taken out


def _send_claimed(notice: RenewalNotice, *, now: datetime) -> str:
    notice_id = notice.pk
    today = timezone.localtime(now).date()
    why_not = _still_eligible(notice, today=today) or _follow_current_address(notice, now=now)
    if why_not:
        RenewalNotice.objects.filter(pk=notice_id).update(
            status=RenewalNotice.Status.SKIPPED, last_error=why_not, updated_at=now
        )
        return "skipped"

    def hand_over() -> None:
        RenewalNotice.objects.filter(pk=notice_id).update(handed_over_at=now)

    try:
        message = emails.build_message(notice)
        emails.deliver(message, before_data=hand_over)
    except emails.PermanentSendError as exc:
        _fail(notice, status=RenewalNotice.Status.FAILED, error=str(exc), now=now)
        if delivery.refuses_recipient(str(exc)):
            delivery.mark_address_bad(notice, reason=f"SMTP: {exc}", now=now)
        return "failed"
    except emails.UnknownOutcomeError as exc:
        _fail(notice, status=RenewalNotice.Status.NEEDS_REVIEW, error=f"outcome unknown: {exc}", now=now)
        return "needs review"
    except emails.ServerRefusedError as exc:
        return _pause_sending(notice, error=str(exc), now=now)
    except emails.TransientSendError as exc:
        return _wait_for_server(notice, error=str(exc), now=now)
    delivery.record_message_id(notice, message)
    _mark_sent(notice, now=now)
    _mail_is_flowing(now)
    return "sent"


@transaction.atomic
def sweep_renewal_notices(*, now: datetime) -> dict:
    """Recover what a lost message or a killed worker left behind; never send twice.

    - ``pending`` rows never published, or published long ago: publish again (the claim
      makes a duplicate message harmless).
    - ``sending`` rows cut short before the body reached the server: back to ``pending``.
    - ``sending`` rows cut short after that: the server may have the email; a person decides.
    """
    stale = now - STUCK_AFTER
    stuck = RenewalNotice.objects.filter(status=RenewalNotice.Status.SENDING, claimed_at__lt=stale)
    # A sweep that only republishes changes nothing a page shows; one that resets or flags rows
    # changes their owners' books (csm/freshness.py).
    owners = {owner for pair in stuck.values_list("contract__account__owner_id", "renewal__owner_id") for owner in pair}
    reset = stuck.filter(handed_over_at__isnull=True).update(
        status=RenewalNotice.Status.PENDING,
        claimed_at=None,
        enqueued_at=None,
        last_error="worker stopped before sending; retried",
        updated_at=now,
    )
    unknown = list(stuck.filter(handed_over_at__isnull=False).select_related("contract__account", "renewal__owner"))
    for notice in unknown:
        _fail(notice, status=RenewalNotice.Status.NEEDS_REVIEW, error="worker stopped mid-send", now=now)

    if not probe_paused_sending(now=now):
        return {"republished": 0, "reset": reset, "needs_review": len(unknown), "paused": True}
    due = list(
        RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due:
        _publish_after_commit(due, now=now)
    if reset or unknown:
        transaction.on_commit(lambda: freshness.bump(owners - {None}))
    return {"republished": len(due), "reset": reset, "needs_review": len(unknown)}


@transaction.atomic
def mark_notice_bounced(notice: RenewalNotice, *, error: str, now: datetime) -> RenewalNotice:
    """A delivered notice bounced later (reported by the mail system): tell the CSM."""
    notice = RenewalNotice.objects.select_related("contract__account", "renewal__owner").get(pk=notice.pk)
    _fail(notice, status=RenewalNotice.Status.BOUNCED, error=error, now=now)
    return notice


class Resolution:
    RESEND = "resend"
    CONFIRM_SENT = "confirm_sent"
    DISMISS = "dismiss"
    CHOICES = ((RESEND, "Send again"), (CONFIRM_SENT, "It was delivered"), (DISMISS, "Do not send"))
    # For an unclear send the safe answer comes first (the default), and sending again says
    # what it risks.
    UNCLEAR_CHOICES = (
        (CONFIRM_SENT, "It was delivered"),
        (DISMISS, "Do not send"),
        (RESEND, "Send again (may send a second copy)"),
    )


@transaction.atomic
def resolve_notice(notice: RenewalNotice, *, action: str, by: User | None, now: datetime) -> RenewalNotice:
    """A person decides about a notice that failed, bounced or has an unknown outcome.

    A resend goes back to ``pending`` unpublished: the sweeper publishes it, so a web
    request never talks to the broker.
    """
    notice = RenewalNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status not in RenewalNotice.NEEDS_A_PERSON:
        raise ValidationError("Only a failed, bounced or unclear notice can be resolved.")
    if action == Resolution.RESEND:
        notice.status, notice.enqueued_at, notice.claimed_at = RenewalNotice.Status.PENDING, None, None
        notice.handed_over_at = None
        # To the contact's address of now: a bounce is usually fixed by correcting it.
        current = notice.contact.email.strip().lower()
        if current and current != notice.email and not _address_taken(notice, current):
            notice.email = current
    elif action == Resolution.CONFIRM_SENT:
        _mark_sent(notice, now=now, by=by)
        notice.refresh_from_db()
        return notice
    elif action == Resolution.DISMISS:
        notice.status = RenewalNotice.Status.SKIPPED
    else:
        raise ValidationError({"action": "Unknown action."})
    notice.last_error = f"{notice.last_error} · resolved by {by}: {action}"[-500:]
    notice.save()
    return notice


def resend_failed_notices(notices: QuerySet, *, by: User | None, now: datetime) -> int:
    """Send again every failed or bounced notice among ``notices``, each as its own resolution.

    Unclear (needs review) notices are left out: they may have been delivered, so each needs
    a person's look (resolve_notice).
    """
    ids = list(notices.filter(status__in=RenewalNotice.UNDELIVERED).values_list("pk", flat=True))
    for notice in RenewalNotice.objects.filter(pk__in=ids).select_related("contact"):
        resolve_notice(notice, action=Resolution.RESEND, by=by, now=now)
    return len(ids)
