# The SQL here is assembled from table names and fixed fragments; every value is a parameter.
# ruff: noqa: S608
"""Playbook rule evaluation as set-based SQL over chunks of accounts.

Each trigger is a SQL condition on one account row (alias ``a``) plus a short reason
expression. Evaluating a rule for a chunk is two statements, whatever the chunk's size:

1. insert an open run for every matching account without an open run (or a recent one),
   ``ON CONFLICT DO NOTHING`` against the partial unique index on open runs, so two
   evaluations at once still insert one run;
2. insert the new runs' tasks (``ON CONFLICT DO NOTHING`` against the open-task-per-key
   index). A run and its task are tied by (account, ``rule:<id>`` task key).

The SQL is the common subset of SQLite and PostgreSQL: dates are computed in Python and
passed in, strings are joined with ``||`` and numbers cast to TEXT.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Account, Contact, HealthCheck, HealthScore, Team, Touchpoint, UsageSnapshot
from renewals.models import Contract, Renewal, RenewalNotice

from . import reviews
from .models import OnboardingItem, PlaybookRule, PlaybookRun, Program, Task

CHUNK = 50_000
OPEN_TASK = (Task.Status.OPEN, Task.Status.SNOOZED)
# Usage: the last week's average against the week a month before.
USAGE_WINDOW_DAYS = 30
USAGE_WEEK = 7
Trigger = PlaybookRule.Trigger


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _d(day: date) -> object:
    return connection.ops.adapt_datefield_value(day)


def _dt(moment: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


def _text(expr: str) -> str:
    return f"CAST({expr} AS TEXT)"


@dataclass(frozen=True)
class Condition:
    """A trigger's SQL for one account ``a``: WHERE fragment and a reason expression."""

    where: str
    where_params: tuple
    reason: str
    reason_params: tuple = ()


Near = Callable[[str], tuple[str, tuple]]


def everywhere(column: str) -> tuple[str, tuple]:
    return "1 = 1", ()


DEFAULT_TOUCH_CADENCE_DAYS = 30  # the Program default, for accounts with no program


def _touch_cutoff(n: int, *, today: date) -> tuple[str, tuple]:
    """The moment before which silence counts: N days when set, else each program's touch cadence.

    N = 0 follows the program, as Today's "no touchpoint" section does (accounts/today.py).
    """

    def moment(days: int) -> object:
        return _dt(timezone.make_aware(datetime.combine(today - timedelta(days=days), time.min)))

    if n:
        return "%s", (moment(n),)
    by_cadence: dict[int, list[int]] = {}
    for pk, cadence in Program.objects.values_list("pk", "touch_cadence_days"):
        by_cadence.setdefault(cadence, []).append(pk)
    whens, params = [], []
    for days, ids in by_cadence.items():
        whens.append(f"WHEN a.program_id IN ({', '.join(str(int(pk)) for pk in ids)}) THEN %s")
        params.append(moment(days))
    if not whens:
        return "%s", (moment(DEFAULT_TOUCH_CADENCE_DAYS),)
    return f"(CASE {' '.join(whens)} ELSE %s END)", (*params, moment(DEFAULT_TOUCH_CADENCE_DAYS))


def condition(rule: PlaybookRule, *, today: date, near: Near = everywhere) -> Condition | None:
    """The rule's SQL condition, or None when the data it reads does not exist (yet).

    ``near(column)`` restricts a subquery's account column to the chunk: PostgreSQL turns
    EXISTS into a hash join, and without it each chunk would read the whole other table.
    """
    n = rule.parameter
    if rule.trigger == Trigger.NO_TOUCHPOINT:
        since_sql, since_params = _touch_cutoff(n, today=today)
        last = f"(SELECT MAX(t.occurred_at) FROM {_t(Touchpoint)} t WHERE t.account_id = a.id)"
        return Condition(
            # A new account with no touchpoint yet is not "silent" before it is N days old.
            where=f"NOT EXISTS (SELECT 1 FROM {_t(Touchpoint)} t WHERE t.account_id = a.id "
            f"AND t.occurred_at >= {since_sql} AND {near('t.account_id')[0]}) "
            f"AND (a.created_at < {since_sql} OR EXISTS (SELECT 1 FROM {_t(Touchpoint)} t WHERE t.account_id = a.id))",
            where_params=(*since_params, *near("t.account_id")[1], *since_params),
            reason=f"'No touchpoint within the cadence; last: ' || COALESCE(SUBSTR({_text(last)}, 1, 10), 'never')"
            if not n
            else f"'No touchpoint for {n}+ days; last: ' || COALESCE(SUBSTR({_text(last)}, 1, 10), 'never')",
        )
    if rule.trigger == Trigger.ONBOARDING_OVERDUE:
        before = today - timedelta(days=n)
        overdue = f"FROM {_t(OnboardingItem)} o WHERE o.account_id = a.id AND o.completed_on IS NULL AND o.due_on < %s"
        return Condition(
            where=f"EXISTS (SELECT 1 {overdue} AND {near('o.account_id')[0]})",
            where_params=(_d(before), *near("o.account_id")[1]),
            reason=f"{_text(f'(SELECT COUNT(*) {overdue})')} || ' onboarding item(s) overdue; oldest due ' || "
            f"{_text(f'(SELECT MIN(o.due_on) {overdue})')}",
            reason_params=(_d(before), _d(before)),
        )
    if rule.trigger == Trigger.RENEWAL_NOT_COMMITTED:
        uncommitted = (Renewal.Stage.UPCOMING, Renewal.Stage.NOTIFIED, Renewal.Stage.IN_DISCUSSION)
        # No lower bound on the end: an active contract past its end is overdue, and still uncommitted.
        ending = (
            f"FROM {_t(Contract)} c LEFT JOIN {_t(Renewal)} r ON r.contract_id = c.id "
            f"WHERE c.account_id = a.id AND c.status = %s AND c.ends_on <= %s "
            f"AND (r.id IS NULL OR r.stage IN (%s, %s, %s))"
        )
        params = (Contract.Status.ACTIVE, _d(today + timedelta(days=n)), *uncommitted)
        return Condition(
            where=f"EXISTS (SELECT 1 {ending} AND {near('c.account_id')[0]})",
            where_params=(*params, *near("c.account_id")[1]),
            reason=f"'Contract ends ' || {_text(f'(SELECT MIN(c.ends_on) {ending})')} || ', renewal not committed'",
            reason_params=params,
        )
    if rule.trigger == Trigger.CONTACT_LEFT:
        gone = (
            f"FROM {_t(Contact)} c WHERE c.account_id = a.id AND c.left_on IS NOT NULL AND c.left_on <= %s "
            f"AND c.successor_id IS NULL AND (c.is_primary = %s OR c.was_primary = %s OR c.is_renewal = %s)"
        )
        # was_primary: leaving hands is_primary on (accounts/services.py mark_contact_left).
        params: tuple = (_d(today), True, True, True)
        if n:  # N, when set, looks back only that many days.
            gone += " AND c.left_on >= %s"
            params += (_d(today - timedelta(days=n)),)
        return Condition(
            where=f"EXISTS (SELECT 1 {gone} AND {near('c.account_id')[0]})",
            where_params=(*params, *near("c.account_id")[1]),
            reason=f"(SELECT MIN(c.name) {gone}) || ' left; find the successor'",
            reason_params=params,
        )
    if rule.trigger == Trigger.USAGE_DROPPED:
        # Average active licenses over the last week vs the same week a month before, in one
        # pass over the chunk's snapshots (daily or weekly alike). Sums and counts keep the
        # comparison in integers: now_sum / now_n <= then_sum / then_n * (100 - N) / 100.
        recent, earlier_end = today - timedelta(days=USAGE_WEEK - 1), today - timedelta(days=USAGE_WINDOW_DAYS)
        earlier = earlier_end - timedelta(days=USAGE_WEEK - 1)
        window = f"FROM {_t(UsageSnapshot)} u WHERE u.date >= %s AND u.date <= %s AND (u.date >= %s OR u.date <= %s)"
        window_params = (_d(earlier), _d(today), _d(recent), _d(earlier_end))
        sums = (
            "SUM(CASE WHEN u.date >= %s THEN u.licenses_active END) AS now_sum, "
            "COUNT(CASE WHEN u.date >= %s THEN 1 END) AS now_n, "
            "SUM(CASE WHEN u.date <= %s THEN u.licenses_active END) AS then_sum, "
            "COUNT(CASE WHEN u.date <= %s THEN 1 END) AS then_n"
        )
        sums_params = (_d(recent), _d(recent), _d(earlier_end), _d(earlier_end))
        chunk_sql, chunk_params = near("u.account_id")
        per_account = f"(SELECT {sums} {window} AND u.account_id = a.id) x"
        return Condition(
            where=f"a.id IN (SELECT x.account_id FROM (SELECT u.account_id, {sums} {window} AND {chunk_sql} "
            f"GROUP BY u.account_id) x WHERE x.then_sum > 0 AND x.now_n > 0 "
            f"AND x.now_sum * x.then_n * 100 <= x.then_sum * x.now_n * %s)",
            where_params=(*sums_params, *window_params, *chunk_params, 100 - min(n, 100)),
            reason=f"(SELECT 'Active licenses fell from ' || {_text('x.then_sum / x.then_n')} || ' to ' || "
            f"{_text('x.now_sum / x.now_n')} || ' (weekly average)' FROM {per_account})",
            reason_params=(*sums_params, *window_params),
        )
    if rule.trigger in (Trigger.HEALTH_WORSENED, Trigger.SCORE_DROP):
        health = HealthScore
        # The nightly scores of the last N days (default: today's and yesterday's run).
        since = today - timedelta(days=max(n, 1) if rule.trigger == Trigger.HEALTH_WORSENED else 1)
        if rule.trigger == Trigger.HEALTH_WORSENED:
            signal, signal_params = "h.band_worsened = %s", (True,)
        else:
            signal, signal_params = "h.score_drop >= %s", (max(n, 1),)
        scores = f"FROM {_t(health)} h WHERE h.account_id = a.id AND h.day >= %s AND h.day <= %s AND {signal}"
        params = (_d(since), _d(today), *signal_params)
        latest = f"{scores} ORDER BY h.day DESC LIMIT 1"
        return Condition(
            where=f"EXISTS (SELECT 1 {scores} AND {near('h.account_id')[0]})",
            where_params=(*params, *near("h.account_id")[1]),
            reason=f"(SELECT 'Health ' || COALESCE(NULLIF(h.previous_band, ''), '?') || ' to ' || h.band "
            f"|| ', score ' || COALESCE({_text('h.previous_score')}, '?') || ' to ' || {_text('h.score')} "
            f"|| ' on ' || {_text('h.day')} {latest})",
            reason_params=params,
        )
    if rule.trigger in REVIEW_TRIGGERS:
        return _review_condition(rule, REVIEW_TRIGGERS[rule.trigger], today=today)
    if rule.trigger == Trigger.NOTICE_BOUNCED:
        notice = RenewalNotice
        undelivered = ", ".join(f"'{status}'" for status in RenewalNotice.UNDELIVERED)  # fixed enum values
        since = today - timedelta(days=n or 30)
        failed = (
            f"FROM {_t(notice)} n JOIN {_t(Contract)} c ON c.id = n.contract_id "
            f"WHERE c.account_id = a.id AND n.status IN ({undelivered}) AND n.scheduled_on >= %s"
        )
        return Condition(
            where=f"EXISTS (SELECT 1 {failed} AND {near('c.account_id')[0]})",
            where_params=(_d(since), *near("c.account_id")[1]),
            reason="'A renewal notice bounced or failed; check the recipients'",
        )
    return None


REVIEW_TRIGGERS = {Trigger.HEALTH_CHECK_OVERDUE: reviews.CHECK, Trigger.BUSINESS_REVIEW_OVERDUE: reviews.REVIEW}
# The type of task each trigger opens (the others open follow-ups).
TASK_KINDS = {
    Trigger.HEALTH_CHECK_OVERDUE: Task.Kind.HEALTH_CHECK,
    Trigger.BUSINESS_REVIEW_OVERDUE: Task.Kind.BUSINESS_REVIEW,
}


def _review_condition(rule: PlaybookRule, kind: str, *, today: date) -> Condition:
    """Overdue health check or business review (playbooks/reviews.py, shared with Today), once per
    due date: the ORM definition compiled to SQL and tied to the outer account ``a``."""
    due = (
        Account.objects.filter(pk=RawSQL("a.id", ()))
        .filter(reviews.overdue(kind, today=today))
        .exclude(reviews.alerted_for_current_due_date(kind, rule.pk))
        .values("pk")
    )
    sql, params = due.query.sql_with_params()
    if kind == reviews.CHECK:
        last = f"(SELECT MAX(h.held_on) FROM {_t(HealthCheck)} h WHERE h.account_id = a.id)"
        reason = f"'Health check overdue; last held: ' || COALESCE({_text(last)}, 'never')"
    else:
        reason = "'No business review within the interval of the program''s entitlement'"
    return Condition(where=f"EXISTS ({sql})", where_params=tuple(params), reason=reason)


def chunk_of(*, lo: int | None = None, hi: int | None = None, ids: list[int] | None = None) -> Near:
    """The accounts being evaluated, as a predicate on any account id column."""

    def near(column: str) -> tuple[str, tuple]:
        if ids is not None:
            return (f"{column} IN ({', '.join(['%s'] * len(ids))})", tuple(ids)) if ids else ("1 = 0", ())
        if lo is not None:
            return f"{column} >= %s AND {column} < %s", (lo, hi)
        return everywhere(column)

    return near


def _scope(rule: PlaybookRule, *, near: Near) -> tuple[str, tuple]:
    where, chunk_params = near("a.id")
    sql, params = f"a.lifecycle_stage <> %s AND {where}", [Account.Stage.CHURNED, *chunk_params]
    if rule.program_id:
        sql += " AND a.program_id = %s"
        params.append(rule.program_id)
    return sql, tuple(params)


def _not_recently_fired(rule: PlaybookRule, *, today: date, near: Near) -> tuple[str, tuple]:
    """No open run, and none closed within the re-trigger delay."""
    chunk_sql, chunk_params = near("pr.account_id")
    # NOT IN over the chunk's runs: one hashed set, where NOT EXISTS could become a nested
    # loop while the planner's statistics have not seen the runs inserted since.
    return (
        f"a.id NOT IN (SELECT pr.account_id FROM {_t(PlaybookRun)} pr WHERE pr.rule_id = %s "
        f"AND (pr.status = %s OR pr.closed_on > %s) AND {chunk_sql})",
        (rule.pk, PlaybookRun.Status.OPEN, _d(today - timedelta(days=rule.retrigger_delay_days)), *chunk_params),
    )


def _assignee_sql(rule: PlaybookRule) -> str:
    if rule.assignee_role == PlaybookRule.Assignee.MANAGER:
        members = connection.ops.quote_name(Team.members.through._meta.db_table)
        return (
            f"COALESCE((SELECT tm.manager_id FROM {_t(Team)} tm JOIN {members} m ON m.team_id = tm.id "
            f"WHERE m.user_id = a.owner_id ORDER BY tm.id LIMIT 1), a.owner_id)"
        )
    return "a.owner_id"


def task_text(rule: PlaybookRule) -> tuple[str, str]:
    def fill(text: str) -> str:
        return text.replace("{n}", str(rule.parameter))

    description = fill(rule.task_description).strip()
    return fill(rule.task_title)[:200], (description + "\n\nWhy: " if description else "Why: ")


def _fire(rule: PlaybookRule, cond: Condition, *, today: date, near: Near) -> int:
    """The two statements for one rule over one chunk; returns the runs inserted."""
    scope_sql, scope_params = _scope(rule, near=near)
    fresh_sql, fresh_params = _not_recently_fired(rule, today=today, near=near)
    runs_sql, runs_params = near("r.account_id")
    run, task, quote = _t(PlaybookRun), _t(Task), connection.ops.quote_name
    title, description = task_text(rule)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling these large statements costs more than the JIT saves running them.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            f"INSERT INTO {run} (rule_id, account_id, fired_on, status, reason) "
            f"SELECT %s, a.id, %s, %s, SUBSTR(COALESCE({cond.reason}, ''), 1, 300) FROM {_t(Account)} a "
            f"WHERE {scope_sql} AND {cond.where} AND {fresh_sql} ON CONFLICT DO NOTHING",
            (
                rule.pk,
                _d(today),
                PlaybookRun.Status.OPEN,
                *cond.reason_params,
                *scope_params,
                *cond.where_params,
                *fresh_params,
            ),
        )
        inserted = cursor.rowcount
        if not inserted:
            return 0
        cursor.execute(
            f"INSERT INTO {task} (account_id, assignee_id, title, description, reason, {quote('key')}, due_on, "
            f"status, created_at, rule_id, source, kind) "
            f"SELECT a.id, {_assignee_sql(rule)}, %s, %s || r.reason, r.reason, %s, %s, %s, %s, %s, %s, %s "
            f"FROM {run} r JOIN {_t(Account)} a ON a.id = r.account_id "
            f"WHERE r.rule_id = %s AND r.status = %s AND r.fired_on = %s AND {runs_sql} AND {scope_sql} "
            f"ON CONFLICT DO NOTHING",
            (
                title,
                description,
                rule.task_key,
                _d(today + timedelta(days=rule.due_in_days)),
                Task.Status.OPEN,
                _dt(timezone.now()),
                rule.pk,
                Task.Source.PLAYBOOK,
                TASK_KINDS.get(rule.trigger, Task.Kind.FOLLOW_UP),
                rule.pk,
                PlaybookRun.Status.OPEN,
                _d(today),
                *runs_params,
                *scope_params,
            ),
        )
    return inserted


def close_finished_runs(rule: PlaybookRule, *, today: date) -> int:
    """Close open runs whose task is done, cancelled or gone, so the rule may fire again."""
    run, task, quote = _t(PlaybookRun), _t(Task), connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {run} SET status = %s, closed_on = %s WHERE rule_id = %s AND status = %s "
            f"AND fired_on < %s AND NOT EXISTS (SELECT 1 FROM {task} t WHERE t.account_id = {run}.account_id "
            f"AND t.{quote('key')} = %s AND t.status IN (%s, %s))",
            (
                PlaybookRun.Status.CLOSED,
                _d(today),
                rule.pk,
                PlaybookRun.Status.OPEN,
                _d(today),
                rule.task_key,
                *OPEN_TASK,
            ),
        )
        return cursor.rowcount


def evaluate_rule(
    rule: PlaybookRule, *, today: date, account_ids: Iterable[int] | None = None, chunk: int = CHUNK
) -> int:
    """Fire ``rule`` for every matching account (or only ``account_ids``); returns runs created."""
    if condition(rule, today=today) is None:
        return 0
    with transaction.atomic():
        close_finished_runs(rule, today=today)
    if account_ids is not None:
        near = chunk_of(ids=list(account_ids))
        with transaction.atomic():
            return _fire(rule, condition(rule, today=today, near=near), today=today, near=near)
    bounds = Account.objects.order_by().values_list("pk", flat=True)
    lo, hi = bounds.order_by("pk").first(), bounds.order_by("-pk").first()
    if lo is None:
        return 0
    created = 0
    for start in range(lo, hi + 1, chunk):
        near = chunk_of(lo=start, hi=start + chunk)
        with transaction.atomic():
            created += _fire(rule, condition(rule, today=today, near=near), today=today, near=near)
    return created


def fire_for_account(rule: PlaybookRule, *, account_id: int, today: date, reason: str) -> int:
    """Fire ``rule`` for one account on an event, with the event's own reason."""
    cond = Condition(where="1 = 1", where_params=(), reason="%s", reason_params=(reason[:300],))
    with transaction.atomic():
        close_finished_runs(rule, today=today)
        return _fire(rule, cond, today=today, near=chunk_of(ids=[account_id]))


def preview(rule: PlaybookRule, *, today: date, limit: int = 200) -> tuple[int, list[tuple[int, str, str]]]:
    """What ``rule`` would create today, without writing: (count, [(account id, name, reason)])."""
    cond = condition(rule, today=today)
    if cond is None:
        return 0, []
    scope_sql, scope_params = _scope(rule, near=everywhere)
    fresh_sql, fresh_params = _not_recently_fired(rule, today=today, near=everywhere)
    where = f"{scope_sql} AND {cond.where} AND {fresh_sql}"
    where_params = (*scope_params, *cond.where_params, *fresh_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_t(Account)} a WHERE {where}", where_params)
        count = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT a.id, a.name, {cond.reason} FROM {_t(Account)} a WHERE {where} ORDER BY a.id LIMIT %s",
            (*cond.reason_params, *where_params, limit),
        )
        return count, [(row[0], row[1], row[2] or "") for row in cursor.fetchall()]
