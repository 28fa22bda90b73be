"""Demo rows for playbooks: program templates, onboarding, success plans, entitlement use,
rules and the tasks they open. Bulk inserts, so a 20,000-account book seeds in seconds."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from accounts.models import Account, Program
from playbooks import services
from playbooks.models import (
    ChecklistTemplateItem,
    EntitlementUse,
    Milestone,
    Objective,
    OnboardingItem,
    OwnerRole,
    PlaybookRule,
    SuccessPlan,
    SuccessPlanTemplateObjective,
    Task,
)

BATCH = 5000

CHECKLIST = (
    # title, owner role, days after the contract start
    ("Kick-off call held", OwnerRole.CSM, 3),
    ("Access and single sign-on set up", OwnerRole.CUSTOMER, 7),
    ("Entitlements and support explained", OwnerRole.CSM, 10),
    ("Admins trained", OwnerRole.CSM, 21),
    ("First value reached", OwnerRole.CUSTOMER, 45),
)
PLAN_TEMPLATE = (
    # objective, milestone, metric, target, days after the start
    ("Adoption", "80% of licenses active", "% licenses active", Decimal("80"), 90),
    ("Self-sufficiency", "Admins handle day-to-day changes", "admins trained", Decimal("3"), 60),
)
OUTCOMES = (
    ("Cut time to resolve customer tickets", "hours to resolve", Decimal("24")),
    ("Replace spreadsheets for reporting", "reports automated", Decimal("12")),
    ("Roll out to every regional team", "teams live", Decimal("8")),
    ("Reduce onboarding time for new hires", "days to productivity", Decimal("10")),
)
# Outcomes about using the product (docs/domain.md §4): their milestones count towards Adoption.
ADOPTION_METRICS = {"teams live"}
RULES = (
    # name, trigger, N, title, description, assignee, due in, delay
    (
        "Silent account",
        PlaybookRule.Trigger.NO_TOUCHPOINT,
        45,
        "Check in: no touchpoint for {n}+ days",
        "Call or meet the customer; log the touchpoint.",
        PlaybookRule.Assignee.OWNER,
        3,
        30,
    ),
    (
        "Renewal not committed",
        PlaybookRule.Trigger.RENEWAL_NOT_COMMITTED,
        90,
        "Ask for the renewal (within {n} days)",
        "Contact the decision maker and the renewal contact; confirm uplift expectations.",
        PlaybookRule.Assignee.OWNER,
        5,
        60,
    ),
    (
        "Primary or renewal contact left",
        PlaybookRule.Trigger.CONTACT_LEFT,
        0,
        "Find the successor",
        "Find out who takes over and set them as the successor.",
        PlaybookRule.Assignee.OWNER,
        2,
        30,
    ),
    (
        "Onboarding overdue",
        PlaybookRule.Trigger.ONBOARDING_OVERDUE,
        3,
        "Unblock onboarding",
        "An onboarding step is late; agree a new date with the customer.",
        PlaybookRule.Assignee.OWNER,
        2,
        14,
    ),
    (
        "Usage dropped",
        PlaybookRule.Trigger.USAGE_DROPPED,
        25,
        "Usage fell {n}%+: find out why",
        "Review adoption with the champion.",
        PlaybookRule.Assignee.OWNER,
        4,
        30,
    ),
    (
        "Health turned worse",
        PlaybookRule.Trigger.HEALTH_WORSENED,
        1,
        "Health worsened: review the account",
        "Open the health panel, see which parts fell, and call the champion.",
        PlaybookRule.Assignee.OWNER,
        2,
        30,
    ),
    (
        "Health score fell sharply",
        PlaybookRule.Trigger.SCORE_DROP,
        15,
        "Health score fell {n}+ points",
        "Find out what changed; agree a plan with the customer.",
        PlaybookRule.Assignee.MANAGER,
        3,
        30,
    ),
    (
        "Renewal notice bounced",
        PlaybookRule.Trigger.NOTICE_BOUNCED,
        30,
        "Fix the renewal notice recipients",
        "A renewal notice did not arrive: check the contacts' addresses.",
        PlaybookRule.Assignee.OWNER,
        1,
        14,
    ),
)


def seed_templates() -> None:
    for program in Program.objects.all():
        for position, (title, role, offset) in enumerate(CHECKLIST):
            ChecklistTemplateItem.objects.get_or_create(
                program=program,
                title=title,
                defaults={"owner_role": role, "due_offset_days": offset, "position": position},
            )
        for position, (title, milestone, metric, target, offset) in enumerate(PLAN_TEMPLATE):
            SuccessPlanTemplateObjective.objects.get_or_create(
                program=program,
                title=title,
                defaults={
                    "milestone_title": milestone,
                    "metric": metric,
                    "target": target,
                    "due_offset_days": offset,
                    "position": position,
                    "is_adoption": title == "Adoption",
                },
            )


def seed_rules() -> None:
    for name, trigger, n, title, description, assignee, due, delay in RULES:
        PlaybookRule.objects.get_or_create(
            name=name,
            defaults={
                "trigger": trigger,
                "parameter": n,
                "task_title": title,
                "task_description": description,
                "assignee_role": assignee,
                "due_in_days": due,
                "retrigger_delay_days": delay,
                "enabled": True,
            },
        )


@transaction.atomic
def extend(*, rng: random.Random, today: date, account_ids: list[int]) -> None:
    seed_templates()
    seed_rules()
    templates = {
        program.pk: list(program.checklist_items.all())
        for program in Program.objects.prefetch_related("checklist_items")
    }
    accounts = Account.objects.filter(pk__in=account_ids).values_list("pk", "owner_id", "program_id", "lifecycle_stage")
    items, plans, uses = [], [], []
    for account_id, owner_id, program_id, stage in accounts:
        # Every account went through onboarding; recent ones are still in it, some late.
        started = today - timedelta(days=rng.randint(5, 60) if stage == "onboarding" else rng.randint(120, 900))
        for template in templates.get(program_id, []):
            due_on = started + timedelta(days=template.due_offset_days)
            finished = due_on < today - timedelta(days=10) or (due_on < today and rng.random() < 0.6)
            items.append(
                OnboardingItem(
                    account_id=account_id,
                    title=template.title,
                    owner_id=owner_id if template.owner_role == OwnerRole.CSM else None,
                    owner_role=template.owner_role,
                    position=template.position,
                    due_on=due_on,
                    completed_on=min(due_on, today) if finished else None,
                    template_item=template,
                )
            )
        if rng.random() < 0.6:
            plans.append((SuccessPlan(account_id=account_id, title="Success plan"), started))
        if stage != "onboarding":
            for _ in range(rng.randint(0, 6)):
                kind = rng.choice(list(EntitlementUse.Kind.values))
                quantity = Decimal(rng.choice([1, 1, 2, 4])) if kind == EntitlementUse.Kind.SUCCESS_HOURS else 1
                uses.append(
                    EntitlementUse(
                        account_id=account_id,
                        kind=kind,
                        quantity=quantity,
                        used_on=today - timedelta(days=rng.randint(1, 360)),
                        by_id=owner_id,
                    )
                )
    OnboardingItem.objects.bulk_create(items, batch_size=BATCH)
    EntitlementUse.objects.bulk_create(uses, batch_size=BATCH)
    SuccessPlan.objects.bulk_create([plan for plan, _ in plans], batch_size=BATCH)
    objectives, starts = [], []
    for plan, started in plans:
        for position, (title, metric, target) in enumerate(rng.sample(OUTCOMES, 2)):
            objectives.append(Objective(plan_id=plan.pk, title=title, position=position))
            starts.append((started, metric, target))
    Objective.objects.bulk_create(objectives, batch_size=BATCH)
    milestones = []
    for objective, (started, metric, target) in zip(objectives, starts, strict=True):
        for step in (1, 2):
            due_on = started + timedelta(days=90 * step)
            reached = due_on < today and rng.random() < 0.65
            status = Milestone.Status.REACHED if reached else rng.choice(["planned", "in_progress", "missed"])
            if due_on >= today and status == "missed":
                status = Milestone.Status.IN_PROGRESS
            goal = target * step / 2
            milestones.append(
                Milestone(
                    objective_id=objective.pk,
                    title=f"{metric.capitalize()}: {goal:g}",
                    metric=metric,
                    target=goal,
                    current=goal if reached else (goal * Decimal(rng.randint(0, 90)) / 100).quantize(Decimal("0.01")),
                    due_on=due_on,
                    status=status,
                    reached_on=min(due_on, today) if reached else None,
                    is_adoption=metric in ADOPTION_METRICS,
                )
            )
    Milestone.objects.bulk_create(milestones, batch_size=BATCH)
    services.evaluate_playbook_rules(today=today)
    _manual_tasks_for_alice(rng=rng, today=today)


def _manual_tasks_for_alice(*, rng: random.Random, today: date) -> None:
    alice = User.objects.filter(username="alice").first()
    if alice is None:
        return
    mine = list(Account.objects.filter(owner=alice).order_by("pk").values_list("pk", flat=True)[:6])
    titles = (
        "Prepare the quarterly business review deck",
        "Send the training schedule",
        "Follow up on the expansion conversation",
        "Share the adoption report with the champion",
    )
    Task.objects.bulk_create(
        [
            Task(
                account_id=account_id,
                assignee=alice,
                title=title,
                due_on=today + timedelta(days=rng.randint(-3, 10)),
                source=Task.Source.MANUAL,
            )
            for account_id, title in zip(mine, titles, strict=False)
        ]
    )
