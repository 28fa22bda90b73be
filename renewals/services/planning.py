"""Planning renewal notices: who gets which notice when, as a set-based upsert into the outbox.

The RenewalNotice table is the outbox (docs/architecture.md, "send once, in effect"): rows are
planned on unique keys and published after commit; `sending` claims and sends them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from accounts.models import Contact, Program
from csm import freshness

from .. import signals, timing
from ..models import Contract, NoticeSchedule, Renewal, RenewalNotice
from .publishing import publish_after_commit

DEFAULT_LEAD_DAYS = 60  # docs/domain.md §8: at least two months ahead, for contracts without a program.
DEFAULT_FOLLOW_UPS = (30, 14)
# Publish at most this many sends per planning run (in batch tasks, publishing.py); finished
# batches and the sweeper keep the queue fed with the rest, so a first run over a large book
# does not flood the broker inside one job.
ENQUEUE_LIMIT = 2000
PLAN_CHUNK = 2000  # due contracts per statement: 8,000 parameters, inside SQLite's limit


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
    last_renewal, last_notice = freshness.last_id(Renewal.objects.all()), freshness.last_id(RenewalNotice.objects.all())
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
    # Programs that review their notices hold them for approval; a send window delays the rest.
    ready = timing.gate_new_notices(planned, now=now)
    published = ready[:ENQUEUE_LIMIT] if publish else []
    if published:
        publish_after_commit(published, now=now)
    if renewals_created or planned or changed:
        owners = _owners_changed(last_renewal, last_notice, [pk for pk, _ in changed], corrected)
        transaction.on_commit(lambda: freshness.bump_changed(owners))
    return {
        "renewals_created": renewals_created,
        "contracts_due": len(due),
        "notices_planned": len(planned),
        "published": len(published),
        "waiting": len(planned) - len(ready),
        "coverage_changes": {coverage: len(ids) for coverage, ids in by_coverage.items()},
        "tasks_opened": tasks_opened,
        "addresses_corrected": len(corrected),
    }


def _owners_changed(last_renewal: int, last_notice: int, renewal_ids: list[int], notice_ids: list[int]) -> set:
    """Owners (of the account and of the renewal) of the renewals and notices a planning run wrote:
    rows above the watermarks, and the renewals and notices it changed."""
    owners: set[int | None] = set()
    fields = ("contract__account__owner_id", "owner_id")
    batches = [Q(pk__gt=last_renewal)] + [
        Q(pk__in=renewal_ids[start : start + PLAN_CHUNK]) for start in range(0, len(renewal_ids), PLAN_CHUNK)
    ]
    for batch in batches:
        for pair in Renewal.objects.filter(batch).values_list(*fields).distinct():
            owners.update(pair)
    notices = RenewalNotice.objects.filter(Q(pk__gt=last_notice) | Q(pk__in=notice_ids))
    for pair in notices.values_list("contract__account__owner_id", "renewal__owner_id").distinct():
        owners.update(pair)
    return owners


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
        if current == notice.email or address_taken(notice, current):
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


def address_taken(notice: RenewalNotice, email: str) -> bool:
    """Another notice of this cycle already goes to ``email`` (one email per address and cycle)."""
    return (
        RenewalNotice.objects.filter(contract_id=notice.contract_id, cycle=notice.cycle, email=email)
        .exclude(pk=notice.pk)
        .exists()
    )
