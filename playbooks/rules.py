# The SQL here is assembled from table names and fixed fragments; every value is a parameter.
# ruff: noqa: S608
"""Playbook rule evaluation as set-based SQL over chunks of accounts.

Each trigger is a SQL condition on one account row (alias ``a``) plus a short reason
expression. Evaluating a rule for a chunk is three statements, whatever the chunk's size:

1. insert an open run for every matching account without an open run (or a recent one),
   ``ON CONFLICT DO NOTHING`` against the partial unique index on open runs, so two
   evaluations at once still insert one run;
2. insert the run's task (``ON CONFLICT DO NOTHING`` against the open-task-per-key index);
3. link the run to its task.

The SQL is the common subset of SQLite and PostgreSQL: dates are computed in Python and
passed in, strings are joined with ``||`` and numbers cast to TEXT.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Contact, Team, Touchpoint, UsageSnapshot
from renewals.models import Contract, Renewal

from .models import OnboardingItem, PlaybookRule, PlaybookRun, Task

CHUNK = 50_000
OPEN_TASK = (Task.Status.OPEN, Task.Status.SNOOZED)
# Usage is compared between the latest snapshot and the one about a month before it.
USAGE_WINDOW_DAYS = 30
USAGE_STALE_DAYS = 14
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


def notice_model() -> type | None:
    """renewals.RenewalNotice once the renewals app has it (the trigger degrades to events only)."""
    try:
        return apps.get_model("renewals", "RenewalNotice")
    except LookupError:
        return None


def health_model() -> type | None:
    try:
        return apps.get_model("accounts", "HealthScore")
    except LookupError:
        return None


def condition(rule: PlaybookRule, *, today: date) -> Condition | None:
    """The rule's SQL condition, or None when the data it reads does not exist (yet)."""
    n = rule.parameter
    if rule.trigger == Trigger.NO_TOUCHPOINT:
        since = timezone.make_aware(datetime.combine(today - timedelta(days=n), time.min))
        last = f"(SELECT MAX(t.occurred_at) FROM {_t(Touchpoint)} t WHERE t.account_id = a.id)"
        return Condition(
            # A new account with no touchpoint yet is not "silent" before it is N days old.
            where=f"NOT EXISTS (SELECT 1 FROM {_t(Touchpoint)} t WHERE t.account_id = a.id AND t.occurred_at >= %s) "
            f"AND (a.created_at < %s OR EXISTS (SELECT 1 FROM {_t(Touchpoint)} t WHERE t.account_id = a.id))",
            where_params=(_dt(since), _dt(since)),
            reason=f"'No touchpoint for {n}+ days; last: ' || COALESCE(SUBSTR({_text(last)}, 1, 10), 'never')",
        )
    if rule.trigger == Trigger.ONBOARDING_OVERDUE:
        before = today - timedelta(days=n)
        overdue = f"FROM {_t(OnboardingItem)} o WHERE o.account_id = a.id AND o.completed_on IS NULL AND o.due_on < %s"
        return Condition(
            where=f"EXISTS (SELECT 1 {overdue})",
            where_params=(_d(before),),
            reason=f"{_text(f'(SELECT COUNT(*) {overdue})')} || ' onboarding item(s) overdue; oldest due ' || "
            f"{_text(f'(SELECT MIN(o.due_on) {overdue})')}",
            reason_params=(_d(before), _d(before)),
        )
    if rule.trigger == Trigger.RENEWAL_NOT_COMMITTED:
        uncommitted = (Renewal.Stage.UPCOMING, Renewal.Stage.NOTIFIED, Renewal.Stage.IN_DISCUSSION)
        ending = (
            f"FROM {_t(Contract)} c LEFT JOIN {_t(Renewal)} r ON r.contract_id = c.id "
            f"WHERE c.account_id = a.id AND c.status = %s AND c.ends_on >= %s AND c.ends_on <= %s "
            f"AND (r.id IS NULL OR r.stage IN (%s, %s, %s))"
        )
        params = (Contract.Status.ACTIVE, _d(today), _d(today + timedelta(days=n)), *uncommitted)
        return Condition(
            where=f"EXISTS (SELECT 1 {ending})",
            where_params=params,
            reason=f"'Contract ends ' || {_text(f'(SELECT MIN(c.ends_on) {ending})')} || ', renewal not committed'",
            reason_params=params,
        )
    if rule.trigger == Trigger.CONTACT_LEFT:
        gone = (
            f"FROM {_t(Contact)} c WHERE c.account_id = a.id AND c.left_on IS NOT NULL AND c.left_on <= %s "
            f"AND c.successor_id IS NULL AND (c.is_primary = %s OR c.is_renewal = %s)"
        )
        params: tuple = (_d(today), True, True)
        if n:  # N, when set, looks back only that many days.
            gone += " AND c.left_on >= %s"
            params += (_d(today - timedelta(days=n)),)
        return Condition(
            where=f"EXISTS (SELECT 1 {gone})",
            where_params=params,
            reason=f"(SELECT MIN(c.name) {gone}) || ' left; find the successor'",
            reason_params=params,
        )
    if rule.trigger == Trigger.USAGE_DROPPED:

        def active(on_or_before: date, not_before: date) -> tuple[str, tuple]:
            sql = (
                f"(SELECT u.licenses_active FROM {_t(UsageSnapshot)} u WHERE u.account_id = a.id "
                f"AND u.date <= %s AND u.date >= %s ORDER BY u.date DESC LIMIT 1)"
            )
            return sql, (_d(on_or_before), _d(not_before))

        now_sql, now_params = active(today, today - timedelta(days=USAGE_STALE_DAYS))
        then_day = today - timedelta(days=USAGE_WINDOW_DAYS)
        then_sql, then_params = active(then_day, then_day - timedelta(days=USAGE_STALE_DAYS))
        return Condition(
            where=f"{then_sql} > 0 AND {now_sql} * 100 <= {then_sql} * %s",
            where_params=(*then_params, *now_params, *then_params, 100 - min(n, 100)),
            reason=f"'Active licenses fell from ' || {_text(then_sql)} || ' to ' || {_text(now_sql)}",
            reason_params=(*then_params, *now_params),
        )
    if rule.trigger == Trigger.NOTICE_BOUNCED:
        notice = notice_model()
        if notice is None:
            return None
        since = today - timedelta(days=n or 30)
        failed = (
            f"FROM {_t(notice)} n JOIN {_t(Contract)} c ON c.id = n.contract_id "
            f"WHERE c.account_id = a.id AND n.status IN ('failed', 'bounced') AND n.scheduled_on >= %s"
        )
        return Condition(
            where=f"EXISTS (SELECT 1 {failed})",
            where_params=(_d(since),),
            reason="'A renewal notice bounced or failed; check the recipients'",
        )
    return None


def _scope(rule: PlaybookRule, *, lo: int | None, hi: int | None, ids: Iterable[int] | None) -> tuple[str, tuple]:
    sql, params = "a.lifecycle_stage <> %s", [Account.Stage.CHURNED]
    if ids is not None:
        ids = list(ids)
        sql += f" AND a.id IN ({', '.join(['%s'] * len(ids))})" if ids else " AND 1 = 0"
        params += ids
    if lo is not None:
        sql += " AND a.id >= %s AND a.id < %s"
        params += [lo, hi]
    if rule.program_id:
        sql += " AND a.program_id = %s"
        params.append(rule.program_id)
    return sql, tuple(params)


def _not_recently_fired(rule: PlaybookRule, *, today: date) -> tuple[str, tuple]:
    """No open run, and none closed within the re-trigger delay."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {_t(PlaybookRun)} pr WHERE pr.rule_id = %s AND pr.account_id = a.id "
        f"AND (pr.status = %s OR pr.closed_on > %s))",
        (rule.pk, PlaybookRun.Status.OPEN, _d(today - timedelta(days=rule.retrigger_delay_days))),
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


def _fire(rule: PlaybookRule, cond: Condition, *, today: date, scope: tuple[str, tuple]) -> int:
    """The three statements for one rule over one scope; returns the runs inserted."""
    scope_sql, scope_params = scope
    fresh_sql, fresh_params = _not_recently_fired(rule, today=today)
    run, task, quote = _t(PlaybookRun), _t(Task), connection.ops.quote_name
    title, description = task_text(rule)
    with connection.cursor() as cursor:
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
            f"status, created_at, rule_id, source) "
            f"SELECT a.id, {_assignee_sql(rule)}, %s, %s || r.reason, r.reason, %s, %s, %s, %s, %s, %s "
            f"FROM {run} r JOIN {_t(Account)} a ON a.id = r.account_id "
            f"WHERE r.rule_id = %s AND r.status = %s AND r.task_id IS NULL AND {scope_sql} ON CONFLICT DO NOTHING",
            (
                title,
                description,
                rule.task_key,
                _d(today + timedelta(days=rule.due_in_days)),
                Task.Status.OPEN,
                _dt(timezone.now()),
                rule.pk,
                Task.Source.PLAYBOOK,
                rule.pk,
                PlaybookRun.Status.OPEN,
                *scope_params,
            ),
        )
        cursor.execute(
            f"UPDATE {run} SET task_id = (SELECT t.id FROM {task} t WHERE t.account_id = {run}.account_id "
            f"AND t.{quote('key')} = %s AND t.status IN (%s, %s)) "
            f"WHERE rule_id = %s AND status = %s AND task_id IS NULL AND account_id IN "
            f"(SELECT a.id FROM {_t(Account)} a WHERE {scope_sql})",
            (rule.task_key, *OPEN_TASK, rule.pk, PlaybookRun.Status.OPEN, *scope_params),
        )
    return inserted


def close_finished_runs(rule: PlaybookRule, *, today: date) -> int:
    """Close open runs whose task is done, cancelled or gone, so the rule may fire again."""
    run, task = _t(PlaybookRun), _t(Task)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {run} SET status = %s, closed_on = %s WHERE rule_id = %s AND status = %s "
            f"AND fired_on < %s AND NOT EXISTS (SELECT 1 FROM {task} t WHERE t.id = {run}.task_id "
            f"AND t.status IN (%s, %s))",
            (PlaybookRun.Status.CLOSED, _d(today), rule.pk, PlaybookRun.Status.OPEN, _d(today), *OPEN_TASK),
        )
        return cursor.rowcount


def evaluate_rule(
    rule: PlaybookRule, *, today: date, account_ids: Iterable[int] | None = None, chunk: int = CHUNK
) -> int:
    """Fire ``rule`` for every matching account (or only ``account_ids``); returns runs created."""
    cond = condition(rule, today=today)
    if cond is None:
        return 0
    with transaction.atomic():
        close_finished_runs(rule, today=today)
    if account_ids is not None:
        with transaction.atomic():
            return _fire(rule, cond, today=today, scope=_scope(rule, lo=None, hi=None, ids=account_ids))
    bounds = Account.objects.order_by().values_list("pk", flat=True)
    lo, hi = bounds.order_by("pk").first(), bounds.order_by("-pk").first()
    if lo is None:
        return 0
    created = 0
    for start in range(lo, hi + 1, chunk):
        with transaction.atomic():
            created += _fire(rule, cond, today=today, scope=_scope(rule, lo=start, hi=start + chunk, ids=None))
    return created


def fire_for_account(rule: PlaybookRule, *, account_id: int, today: date, reason: str) -> int:
    """Fire ``rule`` for one account on an event, with the event's own reason."""
    cond = Condition(where="1 = 1", where_params=(), reason="%s", reason_params=(reason[:300],))
    with transaction.atomic():
        close_finished_runs(rule, today=today)
        return _fire(rule, cond, today=today, scope=_scope(rule, lo=None, hi=None, ids=[account_id]))


def preview(rule: PlaybookRule, *, today: date, limit: int = 200) -> tuple[int, list[tuple[int, str, str]]]:
    """What ``rule`` would create today, without writing: (count, [(account id, name, reason)])."""
    cond = condition(rule, today=today)
    if cond is None:
        return 0, []
    scope_sql, scope_params = _scope(rule, lo=None, hi=None, ids=None)
    fresh_sql, fresh_params = _not_recently_fired(rule, today=today)
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
