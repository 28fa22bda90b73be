from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum

from accounts import stages
from accounts.models import Account, Contact, book_owner_ids
from csm import roles
from renewals.models import Contract, Renewal

from . import rules
from .models import (
    COVERAGE_TASK_KEYS,
    EntitlementUse,
    Handoff,
    Milestone,
    Objective,
    OnboardingItem,
    OwnerRole,
    PlaybookRule,
    PlaybookRun,
    Program,
    SuccessPlan,
    Task,
)


def open_task(
    *,
    account: Account,
    title: str,
    due_on: date,
    key: str = "",
    assignee: User | None = None,
    description: str = "",
    reason: str = "",
    source: str = Task.Source.MANUAL,
) -> tuple[Task, bool]:
    """Open a task unless one with the same ``key`` is already open on the account.

    Returns (task, created). The partial unique index on (account, key) for open tasks
    settles a race between two callers: the loser gets the existing task back.
    """
    if key:
        existing = Task.objects.open().filter(account=account, key=key).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            task = Task.objects.create(
                account=account,
                assignee=assignee if assignee is not None else account.owner,
                title=title,
                description=description,
                reason=reason,
                key=key,
                due_on=due_on,
                source=source,
            )
    except IntegrityError:
        return Task.objects.open().get(account=account, key=key), False
    return task, True


# --- Tasks -------------------------------------------------------------------------------------


@transaction.atomic
def complete_task(task: Task, *, by: User | None, now: datetime, outcome: str = "") -> Task:
    """Mark the task done; its playbook run closes, so the rule may fire again after its delay."""
    if not task.is_open:
        raise ValidationError("This task is already closed.")
    task.status, task.completed_at, task.snoozed_until = Task.Status.DONE, now, None
    task.outcome = outcome.strip()[:300]
    task.save(update_fields=["status", "completed_at", "snoozed_until", "outcome"])
    if task.rule_id:
        PlaybookRun.objects.filter(
            rule_id=task.rule_id, account_id=task.account_id, status=PlaybookRun.Status.OPEN
        ).update(status=PlaybookRun.Status.CLOSED, closed_on=now.date())
    return task


@transaction.atomic
def snooze_task(task: Task, *, until: date, today: date, by: User | None) -> Task:
    """Put the task away until ``until``; it comes back due on that day."""
    if not task.is_open:
        raise ValidationError("Only an open task can be snoozed.")
    if until <= today:
        raise ValidationError({"until": "Snooze until a day after today."})
    task.status, task.snoozed_until, task.due_on = Task.Status.SNOOZED, until, until
    task.save(update_fields=["status", "snoozed_until", "due_on"])
    return task


def wake_snoozed_tasks(*, today: date) -> int:
    return Task.objects.filter(status=Task.Status.SNOOZED, snoozed_until__lte=today).update(
        status=Task.Status.OPEN, snoozed_until=None
    )


# --- Onboarding ---------------------------------------------------------------------------------


def _owner_for(role: str, account: Account) -> User | None:
    if role == OwnerRole.CSM:
        return account.owner
    if role == OwnerRole.MANAGER and account.owner is not None:
        team = account.owner.teams.select_related("manager").order_by("pk").first()
        return team.manager if team else account.owner
    return None


@transaction.atomic
def start_onboarding(account: Account, *, starts_on: date) -> int:
    """Instantiate the program's checklist for the account; items already there are kept."""
    if account.program is None:
        return 0
    present = set(account.onboarding_items.values_list("template_item_id", flat=True))
    items = [
        OnboardingItem(
            account=account,
            title=template.title,
            owner=_owner_for(template.owner_role, account),
            owner_role=template.owner_role,
            position=template.position,
            due_on=starts_on + timedelta(days=template.due_offset_days),
            template_item=template,
        )
        for template in account.program.checklist_items.all()
        if template.pk not in present
    ]
    OnboardingItem.objects.bulk_create(items)
    return len(items)


@transaction.atomic
def set_onboarding_item_done(item: OnboardingItem, *, done: bool, today: date) -> OnboardingItem:
    item.completed_on = today if done else None
    item.save(update_fields=["completed_on"])
    if done and not OnboardingItem.objects.filter(account_id=item.account_id, completed_on__isnull=True).exists():
        # The checklist is complete: onboarding is over (docs/domain.md, lifecycle stages).
        stages.move_stage(
            item.account,
            to=Account.Stage.ADOPTION,
            on=today,
            reason="Onboarding checklist complete",
            only_from=(Account.Stage.ONBOARDING,),
        )
    return item


@dataclass
class OnboardingProgress:
    total: int
    done: int
    overdue: int

    @property
    def pct(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return bool(self.total) and self.done == self.total


def onboarding_progress(account: Account, *, today: date) -> OnboardingProgress:
    counts = account.onboarding_items.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(completed_on__isnull=False)),
        overdue=Count("pk", filter=Q(completed_on__isnull=True, due_on__lt=today)),
    )
    return OnboardingProgress(**counts)


# --- Success plans ------------------------------------------------------------------------------


@transaction.atomic
def draft_success_plan(
    account: Account, *, starts_on: date, outcomes: list[dict] | tuple = (), title: str = ""
) -> SuccessPlan:
    """Create (or extend) the plan from the customer's outcomes and the program's template.

    Objectives already in the plan (same title) are not added twice.
    """
    plan, _ = SuccessPlan.objects.get_or_create(account=account, defaults={"title": title or "Success plan"})
    present = {t.casefold() for t in plan.objectives.values_list("title", flat=True)}
    position = plan.objectives.count()
    drafts = [
        {
            "title": outcome["title"],
            "milestone": outcome.get("milestone") or outcome["title"],
            "metric": outcome.get("metric", ""),
            "target": outcome.get("target"),
            "due_on": outcome.get("due_on") or starts_on + timedelta(days=90),
        }
        for outcome in outcomes
    ]
    if account.program is not None:
        drafts += [
            {
                "title": t.title,
                "milestone": t.milestone_title,
                "metric": t.metric,
                "target": t.target,
                "due_on": starts_on + timedelta(days=t.due_offset_days),
            }
            for t in account.program.plan_objectives.all()
        ]
    for draft in drafts:
        if draft["title"].casefold() in present:
            continue
        present.add(draft["title"].casefold())
        objective = Objective.objects.create(plan=plan, title=draft["title"][:200], position=position)
        position += 1
        Milestone.objects.create(
            objective=objective,
            title=draft["milestone"][:200],
            metric=draft["metric"][:100],
            target=draft["target"],
            current=Decimal("0") if draft["target"] is not None else None,
            due_on=draft["due_on"],
        )
    return plan


@transaction.atomic
def add_objective(account: Account, *, title: str, description: str = "") -> Objective:
    plan, _ = SuccessPlan.objects.get_or_create(account=account)
    objective = Objective(plan=plan, title=title.strip(), description=description, position=plan.objectives.count())
    objective.full_clean()
    objective.save()
    return objective


@transaction.atomic
def update_objective(objective: Objective, *, title: str, description: str = "") -> Objective:
    objective.title, objective.description = title.strip(), description
    objective.full_clean()
    objective.save(update_fields=["title", "description"])
    return objective


@transaction.atomic
def delete_objective(objective: Objective) -> None:
    """Remove the objective and its milestones (kept in the audit history)."""
    for milestone in objective.milestones.all():
        milestone.delete()
    objective.delete()


@transaction.atomic
def add_milestone(
    objective: Objective, *, title: str, due_on: date, metric: str = "", target: Decimal | None = None
) -> Milestone:
    milestone = Milestone(
        objective=objective,
        title=title.strip(),
        metric=metric,
        target=target,
        current=Decimal("0") if target is not None else None,
        due_on=due_on,
    )
    milestone.full_clean()
    milestone.save()
    return milestone


@transaction.atomic
def edit_milestone(
    milestone: Milestone, *, title: str, due_on: date, metric: str = "", target: Decimal | None = None
) -> Milestone:
    """Change what the milestone measures and when it is due (progress: ``update_milestone``)."""
    milestone.title, milestone.due_on, milestone.metric, milestone.target = title.strip(), due_on, metric, target
    if target is not None and milestone.current is None:
        milestone.current = Decimal("0")
    milestone.full_clean()
    milestone.save(update_fields=["title", "due_on", "metric", "target", "current"])
    return milestone


@transaction.atomic
def delete_milestone(milestone: Milestone) -> None:
    milestone.delete()


@transaction.atomic
def update_milestone(
    milestone: Milestone, *, current: Decimal | None, status: str, today: date, due_on: date | None = None
) -> Milestone:
    """Record progress; a milestone whose current value meets its target is reached."""
    if status not in Milestone.Status.values:
        raise ValidationError({"status": "Unknown status."})
    milestone.current = current
    if milestone.target is not None and current is not None and current >= milestone.target:
        status = Milestone.Status.REACHED
    if status == Milestone.Status.REACHED and milestone.reached_on is None:
        milestone.reached_on = today
    elif status != Milestone.Status.REACHED:
        milestone.reached_on = None
    milestone.status = status
    if due_on:
        milestone.due_on = due_on
    milestone.save(update_fields=["current", "status", "reached_on", "due_on"])
    return milestone


def success_plan_realization(account_ids: list[int] | None = None) -> dict[int, float]:
    """Share of milestones reached per account (docs/domain.md §3), for health and metrics.

    Accounts whose plan has no milestones are absent.
    """
    rows = Milestone.objects.all()
    if account_ids is not None:
        rows = rows.filter(objective__plan__account_id__in=account_ids)
    counts = (
        rows.values("objective__plan__account_id")
        .annotate(total=Count("pk"), reached=Count("pk", filter=Q(status=Milestone.Status.REACHED)))
        .order_by()
    )
    return {r["objective__plan__account_id"]: r["reached"] / r["total"] for r in counts}


# --- Entitlements and the service usage statement ------------------------------------------------

ENTITLEMENT_FIELDS: dict[str, str] = {
    EntitlementUse.Kind.BUSINESS_REVIEW: "business_reviews_per_year",
    EntitlementUse.Kind.TRAINING: "training_seats",
    EntitlementUse.Kind.SUCCESS_HOURS: "success_hours",
}


@transaction.atomic
def record_entitlement_use(
    account: Account, *, kind: str, quantity: Decimal, used_on: date, by: User | None, note: str = ""
) -> EntitlementUse:
    if kind not in EntitlementUse.Kind.values:
        raise ValidationError({"kind": "Unknown kind of service."})
    if quantity is None or quantity <= 0:
        raise ValidationError({"quantity": "Enter a quantity above zero."})
    return EntitlementUse.objects.create(
        account=account, kind=kind, quantity=quantity, used_on=used_on, by=by, note=note
    )


@dataclass
class StatementLine:
    kind: str
    label: str
    entitled: int | None
    used: Decimal
    times: int

    @property
    def remaining(self) -> Decimal | None:
        return None if self.entitled is None else Decimal(self.entitled) - self.used

    @property
    def over(self) -> bool:
        return self.entitled is not None and self.used > self.entitled


@dataclass
class Statement:
    account: Account
    program: Program | None
    start: date
    end: date
    lines: list[StatementLine]
    uses: list[EntitlementUse] = field(default_factory=list)


def service_usage_statement(account: Account, *, start: date, end: date) -> Statement:
    """Services used in [start, end] against the program's yearly entitlements (docs/domain.md §9)."""
    if end < start:
        raise ValidationError({"end": "The period ends before it starts."})
    uses = list(account.entitlement_uses.between(start, end).select_related("by").order_by("used_on", "pk"))
    totals = {
        row["kind"]: row
        for row in account.entitlement_uses.between(start, end)
        .values("kind")
        .annotate(used=Sum("quantity"), times=Count("pk"))
        .order_by()
    }
    program = account.program
    lines = []
    for kind, label in EntitlementUse.Kind.choices:
        entitled = getattr(program, ENTITLEMENT_FIELDS[kind]) if program and kind in ENTITLEMENT_FIELDS else None
        row = totals.get(kind, {"used": Decimal("0"), "times": 0})
        lines.append(StatementLine(kind=kind, label=label, entitled=entitled, used=row["used"], times=row["times"]))
    return Statement(account=account, program=program, start=start, end=end, lines=lines, uses=uses)


# --- Handoff ---------------------------------------------------------------------------------------

CONTACT_ROLES = Contact.ROLE_FLAGS


def _upsert_contacts(account: Account, stakeholders: list[dict]) -> None:
    existing = list(account.contacts.all())
    for person in stakeholders:
        email = (person.get("email") or "").strip().lower()
        match = next(
            (c for c in existing if (email and c.email.lower() == email) or (not email and c.name == person["name"])),
            None,
        )
        contact = match or Contact(account=account)
        contact.name = person["name"]
        contact.email = email or contact.email
        contact.title = person.get("title") or contact.title
        for role in person.get("roles", []):
            setattr(contact, CONTACT_ROLES[role], True)
        contact.save()
        if match is None:
            existing.append(contact)


# Who may hand off what (docs/security.md, "Handoff"): admins (and an integration's token, which
# belongs to an admin user) assign anyone; a manager assigns within their team; a CSM only
# themselves. A body id (deal id, external id) that names an account the caller may not change
# gets the same answer whether the id is taken in another book or not visible at all, and says
# nothing about that account.
UNAVAILABLE = "This id cannot be used for this handoff."
NOT_ASSIGNABLE = "Choose a success manager you may assign."


def assignable_csms(user: User | None) -> "QuerySet[User]":
    """The users ``user`` may make an account's owner through a handoff (None: the system)."""
    active = User.objects.filter(is_active=True)
    if user is None or roles.is_admin(user):
        return active
    if not roles.can_write(user):
        return active.none()
    return active.filter(pk__in=book_owner_ids(user))  # type: ignore[misc]  # None only for admins


def _record_handoff_contract(
    account: Account,
    contract: Contract | None,
    *,
    starts_on: date,
    ends_on: date,
    amount: Decimal,
    by: User | None,
    today: date,
) -> Contract:
    """The deal's contract: created with its renewal and ``new`` ledger entry the first time;
    a re-sent deal at another amount is a mid-term change (one expansion or contraction entry)."""
    # renewals.services imports this module (open_task), so import it when first needed.
    from renewals import services as contracts

    if contract is None:
        return contracts.create_contract(
            account=account, starts_on=starts_on, ends_on=ends_on, amount=amount, by=by, program=account.program
        )
    if (contract.starts_on, contract.ends_on) != (starts_on, ends_on):
        if ends_on <= starts_on:
            raise ValidationError({"contract_ends_on": "The contract must end after it starts."})
        contract.starts_on, contract.ends_on = starts_on, ends_on
        contract.save(update_fields=["starts_on", "ends_on"])
        Renewal.objects.filter(contract=contract).update(close_date=ends_on)
    effective_on = min(max(today, contract.starts_on), contract.ends_on)
    contracts.change_contract_amount(contract, amount=amount, effective_on=effective_on, by=by)
    contract.refresh_from_db()
    return contract


def record_handoff(**kwargs: Any) -> tuple[Handoff, bool]:
    """Turn a closed-won deal into an account in onboarding, once per deal id (see ``_record_handoff``)."""
    try:
        return _record_handoff(**kwargs)
    except IntegrityError:
        # Another delivery of the same deal committed first: everything it made rolled back
        # here, and this second pass updates the handoff it created.
        return _record_handoff(**kwargs)


@transaction.atomic
def _record_handoff(
    *,
    deal_id: str,
    account_name: str,
    what_sold: str,
    today: date,
    by: User | None,
    external_id: str = "",
    program: Program | None = None,
    csm: User | None = None,
    segment: str = "",
    contract_starts_on: date | None = None,
    contract_ends_on: date | None = None,
    recurring_amount: Decimal | None = None,
    outcomes: list[dict] | tuple = (),
    stakeholders: list[dict] | tuple = (),
    expectations: str = "",
    payload: dict | None = None,
) -> tuple[Handoff, bool]:
    """Creates or updates the account, its contacts and contract, assigns the CSM, starts
    onboarding from the program's checklist and drafts the success plan from the outcomes.
    Posting the same deal again updates what it captured and never duplicates anything.
    Returns (handoff, created).
    """
    if not deal_id.strip():
        raise ValidationError({"deal_id": "The CRM deal id is required."})
    if contract_starts_on and contract_ends_on and contract_ends_on <= contract_starts_on:
        raise ValidationError({"contract_ends_on": "The contract must end after it starts."})
    for person in stakeholders:
        unknown = set(person.get("roles", [])) - set(CONTACT_ROLES)
        if unknown:
            raise ValidationError({"stakeholders": f"Unknown role(s): {', '.join(sorted(unknown))}."})
    may_change = Account.objects.all() if by is None else Account.objects.editable_by(by)
    if csm is not None and not assignable_csms(by).filter(pk=csm.pk).exists():
        raise ValidationError({"csm": NOT_ASSIGNABLE})
    # Lock the deal's row: two deliveries of the same webhook wait for each other.
    handoff = Handoff.objects.select_for_update().filter(deal_id=deal_id).select_related("account").first()
    if handoff is not None and not may_change.filter(pk=handoff.account_id).exists():
        raise ValidationError({"deal_id": UNAVAILABLE})
    created = handoff is None
    account: Account | None
    if handoff:
        account = handoff.account
    else:
        account = Account.objects.filter(external_id=external_id).first() if external_id else None
        if account is not None and not may_change.filter(pk=account.pk).exists():
            raise ValidationError({"external_id": UNAVAILABLE})
        if account is None:
            account = Account(name=account_name, external_id=external_id or None)
            account.lifecycle_stage = Account.Stage.ONBOARDING
    account.name = account_name or account.name
    if program is not None:
        account.program = program
    if segment:
        account.segment = segment
    account.owner = csm or account.owner or by
    account.save()

    contract = handoff.contract if handoff else None
    if contract_starts_on and contract_ends_on and recurring_amount is not None:
        contract = _record_handoff_contract(
            account,
            contract,
            starts_on=contract_starts_on,
            ends_on=contract_ends_on,
            amount=recurring_amount,
            by=by,
            today=today,
        )

    handoff = handoff or Handoff(deal_id=deal_id)
    handoff.account, handoff.contract, handoff.by = account, contract, by
    handoff.what_sold, handoff.expectations = what_sold, expectations
    handoff.outcomes = [_jsonable(o) for o in outcomes]
    handoff.stakeholders = list(stakeholders)
    handoff.payload = payload or {}
    handoff.save()

    _upsert_contacts(account, list(stakeholders))
    starts_on = contract_starts_on or (contract.starts_on if contract else today)
    start_onboarding(account, starts_on=starts_on)
    draft_success_plan(account, starts_on=starts_on, outcomes=list(outcomes))
    open_task(
        account=account,
        title="Kick-off call: confirm the outcomes and expectations from the handoff",
        due_on=max(today, starts_on) + timedelta(days=3),
        key=f"handoff:{deal_id}"[:200],
        description=f"What was sold: {what_sold}\n\nExpectations set in the sale: {expectations or '—'}",
        reason=f"Handoff of deal {deal_id}",
        source=Task.Source.HANDOFF,
    )
    return handoff, created


def _jsonable(outcome: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in outcome.items()}


# --- Playbook rules -------------------------------------------------------------------------------


def health_ran(*, day: date) -> bool:
    """Whether the nightly health job finished for ``day`` (the rules read its scores)."""
    from csm.models import JobRun

    return JobRun.objects.filter(job="recalculate_health", day=day, status=JobRun.Status.DONE).exists()


def evaluate_playbook_rules(*, today: date, chunk: int = rules.CHUNK) -> dict:
    """Evaluate every enabled rule over all accounts (nightly, after health). Safe to repeat."""
    wake_snoozed_tasks(today=today)
    created = {}
    for rule in PlaybookRule.objects.filter(enabled=True).order_by("pk"):
        created[rule.name] = rules.evaluate_rule(rule, today=today, chunk=chunk)
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


# --- Account 360 panels -----------------------------------------------------------------------------


def account_panels(account: Account, *, today: date) -> dict:
    """Context for the playbooks partials on the account page (templates/playbooks/_*_panel.html)."""
    plan = SuccessPlan.objects.filter(account=account).first()
    objectives = list(plan.objectives.prefetch_related("milestones")) if plan else []
    year_start = today - timedelta(days=365)
    return {
        "onboarding_items": list(account.onboarding_items.select_related("owner")),
        "onboarding": onboarding_progress(account, today=today),
        "success_plan": plan,
        "objectives": objectives,
        "realization": plan.realization() if plan else None,
        "statement": service_usage_statement(account, start=year_start, end=today),
        "open_tasks": list(account.tasks.open().select_related("assignee", "rule").order_by("due_on", "pk")[:10]),
        "today": today,
    }


# --- Tasks a contact change finishes ----------------------------------------------------------------


@transaction.atomic
def close_finished_contact_tasks(*, account_id: int, today: date, now: datetime, by: User | None) -> int:
    """Close the coverage and successor tasks the account's contacts now satisfy; returns how many.

    "Add a second renewal contact" is done once two people receive renewal notices, "Find who is
    responsible" once one does, "Find the successor" once everyone who left has a successor.
    """
    open_tasks = Task.objects.open().filter(account_id=account_id).select_related("rule")
    recipients = Contact.objects.filter(account_id=account_id).renewal_recipients(today=today).count()
    finished = [
        task
        for task in open_tasks.filter(key__startswith="renewal:")
        if any(task.key.startswith(prefix) and recipients >= needed for prefix, needed in COVERAGE_TASK_KEYS.items())
    ]
    successor_tasks = open_tasks.filter(rule__trigger=PlaybookRule.Trigger.CONTACT_LEFT)
    waiting = Contact.objects.filter(account_id=account_id).awaiting_successor(today=today)
    if successor_tasks.exists() and not waiting.exists():
        finished += list(successor_tasks)
    for task in finished:
        complete_task(task, by=by, now=now)
    if any(task.key.startswith("renewal:") for task in finished):
        # The renewal's recorded coverage follows, so the planner sees it drop again later and
        # opens a new task then (it opens one only on a change: renewals/services/).
        coverage = Renewal.Coverage.OK if recipients >= 2 else Renewal.Coverage.SINGLE_CONTACT
        Renewal.objects.filter(
            contract__account_id=account_id,
            contact_coverage__in=[Renewal.Coverage.SINGLE_CONTACT, Renewal.Coverage.NO_CONTACT],
        ).update(contact_coverage=coverage)
    return len(finished)
