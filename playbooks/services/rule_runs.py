"""Running playbook rules: nightly over every account, for one account on an event, and a dry run."""

from datetime import date, timedelta

from accounts.models import Account
from csm import freshness

from .. import rules
from ..models import (
    PlaybookRule,
    Task,
)
from .tasks import wake_snoozed_tasks


def health_ran(*, day: date) -> bool:
    """Whether the nightly health job finished for ``day`` (the rules read its scores)."""
    from csm.models import JobRun

    return JobRun.objects.filter(job="recalculate_health", day=day, status=JobRun.Status.DONE).exists()


def evaluate_playbook_rules(*, today: date, chunk: int = rules.CHUNK) -> dict:
    """Evaluate every enabled rule over all accounts (nightly, after health). Safe to repeat.

    Replaces the page-cache stamps of the books with a task woken or opened, and of no other."""
    waking = Task.objects.filter(status=Task.Status.SNOOZED, snoozed_until__lte=today)
    changed = set(waking.values_list("account__owner_id", flat=True).distinct())
    last = freshness.last_id(Task.objects.all())
    wake_snoozed_tasks(today=today)
    created = {}
    for rule in PlaybookRule.objects.filter(enabled=True).order_by("pk"):
        created[rule.name] = rules.evaluate_rule(rule, today=today, chunk=chunk)
    if any(created.values()):
        changed |= set(Task.objects.filter(pk__gt=last).values_list("account__owner_id", flat=True).distinct())
    freshness.bump_changed(changed)
    return {"created": created, "total": sum(created.values())}


def evaluate_rules_for_account(*, account_id: int, triggers: list[str], today: date) -> int:
    """Evaluate the enabled rules with these triggers for one account (on an event)."""
    created = 0
    for rule in PlaybookRule.objects.filter(enabled=True, trigger__in=triggers).order_by("pk"):
        created += rules.evaluate_rule(rule, today=today, account_ids=[account_id])
    return created


def fire_rules_for_account(*, account_id: int, trigger: str, today: date, reason: str) -> int:
    """Fire the enabled rules with this trigger for one account, for an event the tables do not show."""
    created = 0
    for rule in PlaybookRule.objects.filter(enabled=True, trigger=trigger).order_by("pk"):
        if rule.program_id and not Account.objects.filter(pk=account_id, program_id=rule.program_id).exists():
            continue
        created += rules.fire_for_account(rule, account_id=account_id, today=today, reason=reason)
    return created


def dry_run_rule(rule: PlaybookRule, *, today: date, limit: int = 200) -> dict:
    """What the rule would create today, without writing anything."""
    count, rows = rules.preview(rule, today=today, limit=limit)
    title, _ = rules.task_text(rule)
    return {
        "rule": rule,
        "count": count,
        "rows": rows,
        "title": title,
        "supported": rules.condition(rule, today=today) is not None,
        "due_on": today + timedelta(days=rule.due_in_days),
    }
