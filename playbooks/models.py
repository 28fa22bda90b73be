from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import Program
from csm import roles

# Renewal-coverage task key prefixes (renewals/services/ COVERAGE_TASKS) and how many renewal
# recipients finish each: a second contact, or a first one.
COVERAGE_TASK_KEYS = {"renewal:single-contact:": 2, "renewal:no-contact:": 1}


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user: "roles.User") -> "TaskQuerySet":
        from accounts.models import Account

        return self.filter(account__in=Account.objects.visible_to(user))

    def open(self) -> "TaskQuerySet":
        return self.filter(status__in=[Task.Status.OPEN, Task.Status.SNOOZED])

    def due_by(self, day: date) -> "TaskQuerySet":
        return self.open().filter(due_on__lte=day)


class Task(models.Model):
    """Something a person must do for an account; created by hand, by a playbook or by a job.

    ``key`` names why the task exists (e.g. ``renewal:no-contact:<contract id>``); while a
    task with that key is open on the account, another one is never created (see services).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SNOOZED = "snoozed", "Snoozed"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        MANUAL = "manual", "By hand"
        PLAYBOOK = "playbook", "Playbook rule"
        HANDOFF = "handoff", "Handoff"
        JOB = "job", "Scheduled job"

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", "Follow-up"
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        HEALTH_CHECK = "health_check", "Health check"
        BUSINESS_REVIEW = "business_review", "Business review"
        RENEWAL = "renewal", "Renewal"
        OTHER = "other", "Other"

    class Priority(models.IntegerChoices):
        # Numbers so that "most urgent first" is a plain ORDER BY.
        HIGH = 1, "High"
        NORMAL = 2, "Normal"
        LOW = 3, "Low"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    reason = models.CharField(max_length=300, blank=True, help_text="Why this task exists, in one line.")
    key = models.CharField(max_length=200, blank=True, db_index=True)
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    rule = models.ForeignKey("PlaybookRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    kind = models.CharField("type", max_length=20, choices=Kind.choices, db_default=Kind.FOLLOW_UP)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, db_default=Priority.NORMAL)
    # Defaults in the database too: the rules insert tasks in SQL (rules.py).
    outcome = models.CharField(
        max_length=300, blank=True, db_default="", help_text="What came of it, said when closing."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # One open task per account and reason: a repeated trigger cannot duplicate it.
            models.UniqueConstraint(
                fields=["account", "key"],
                condition=Q(status__in=["open", "snoozed"]) & ~Q(key=""),
                name="task_one_open_per_account_key",
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_status_due_idx"),
            # Open tasks oldest due first, for a team's Today: read in order, stop at the page.
            models.Index(
                fields=["due_on", "id"], condition=Q(status__in=["open", "snoozed"]), name="task_open_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (Task.Status.OPEN, Task.Status.SNOOZED)

    @property
    def finished_by(self) -> str:
        """The account page's form that finishes this task: "add_contact" (renewal coverage),
        "successor" (a primary or renewal contact left), or "" (closed by hand)."""
        if self.key.startswith(tuple(COVERAGE_TASK_KEYS)):
            return "add_contact"
        if self.rule_id and self.rule.trigger == PlaybookRule.Trigger.CONTACT_LEFT:  # type: ignore[union-attr]  # rule_id is set
            return "successor"
        return ""

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today


class OwnerRole(models.TextChoices):
    """Who does a step: resolved to a person when the step is instantiated for an account."""

    CSM = "csm", "Success manager"
    MANAGER = "manager", "CSM's manager"
    CUSTOMER = "customer", "Customer"


class OnboardingItem(models.Model):
    """One step of an account's onboarding checklist (docs/domain.md §2)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="onboarding_items")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    owner_role = models.CharField(max_length=20, choices=OwnerRole.choices, default=OwnerRole.CSM)
    position = models.PositiveSmallIntegerField(default=0)
    due_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    template_item = models.ForeignKey(
        "ChecklistTemplateItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["account", "position", "pk"]
        indexes = [
            models.Index(fields=["account", "completed_on"], name="onboarding_account_done_idx"),
            # Overdue items of any book: only the open ones, a small share of all items.
            models.Index(fields=["due_on"], condition=Q(completed_on__isnull=True), name="onboarding_open_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date) -> bool:
        return self.completed_on is None and self.due_on < today


class SuccessPlan(models.Model):
    """Objectives and measurable milestones agreed with the customer (docs/domain.md §3)."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="success_plan")
    title = models.CharField(max_length=200, default="Success plan")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.title} ({self.account})"

    def realization(self) -> float | None:
        """Share of milestones reached (docs/domain.md §3), or None when the plan has none."""
        counts = Milestone.objects.filter(objective__plan=self).aggregate(
            total=models.Count("pk"), reached=models.Count("pk", filter=Q(status=Milestone.Status.REACHED))
        )
        return counts["reached"] / counts["total"] if counts["total"] else None


class Objective(models.Model):
    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    """A measurable step; the share reached is the plan's realization."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        REACHED = "reached", "Reached"
        MISSED = "missed", "Missed"

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    metric = models.CharField(max_length=100, blank=True, help_text="What is measured, e.g. 'weekly active users'.")
    target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    current = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    reached_on = models.DateField(null=True, blank=True)
    is_adoption = models.BooleanField(
        "adoption milestone",
        default=False,
        help_text="Counts towards the Adoption metric (docs/domain.md §4); copied from the program's template.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["objective", "due_on", "pk"]
        # The expansion job's "milestone reached" signal reads the milestones reached lately.
        indexes = [
            models.Index(fields=["reached_on"], name="milestone_reached_idx", condition=Q(status="reached")),
        ]

    def __str__(self) -> str:
        return self.title

    def progress(self) -> float | None:
        if self.target in (None, 0) or self.current is None:
            return None
        return min(float(self.current / self.target), 1.0)


# --- Program templates ---------------------------------------------------------------------


class ChecklistTemplateItem(models.Model):
    """One step of a program's onboarding checklist, due relative to the contract start."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="checklist_items")
    title = models.CharField(max_length=200)
    owner_role = models.CharField(max_length=20, choices=OwnerRole.choices, default=OwnerRole.CSM)
    due_offset_days = models.PositiveSmallIntegerField(default=7, help_text="Days after the contract start.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class SuccessPlanTemplateObjective(models.Model):
    """An objective every customer of the program starts with, and its first milestone."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="plan_objectives")
    title = models.CharField(max_length=200)
    milestone_title = models.CharField(max_length=200)
    metric = models.CharField(max_length=100, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    due_offset_days = models.PositiveSmallIntegerField(default=90, help_text="Days after the contract start.")
    position = models.PositiveSmallIntegerField(default=0)
    is_adoption = models.BooleanField(
        "adoption milestone",
        default=False,
        help_text="Its milestone shows that the customer uses what they bought: it counts towards Adoption.",
    )

    class Meta:
        ordering = ["program", "position", "pk"]

    def __str__(self) -> str:
        return self.title


# --- Handoff ---------------------------------------------------------------------------------


class HandoffQuerySet(models.QuerySet):
    def visible_to(self, user: "roles.User") -> "HandoffQuerySet":
        from accounts.models import Account

        return self.filter(account__in=Account.objects.visible_to(user))


class Handoff(models.Model):
    """What Sales told the customer, captured once so Service never asks again (docs/domain.md §1)."""

    deal_id = models.CharField(max_length=100, unique=True, help_text="The CRM's closed-won deal id.")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="handoffs")
    contract = models.ForeignKey(
        "renewals.Contract", on_delete=models.SET_NULL, null=True, blank=True, related_name="handoffs"
    )
    what_sold = models.TextField("what was sold")
    outcomes = models.JSONField(default=list, help_text="The customer's desired outcomes.")
    stakeholders = models.JSONField(default=list)
    expectations = models.TextField("expectations set in the sale", blank=True)
    payload = models.JSONField(default=dict, help_text="The request as received.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HandoffQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Handoff {self.deal_id} ({self.account})"


# --- Entitlement use -------------------------------------------------------------------------


class EntitlementUseQuerySet(models.QuerySet):
    def visible_to(self, user: "roles.User") -> "EntitlementUseQuerySet":
        from accounts.models import Account

        return self.filter(account__in=Account.objects.visible_to(user))

    def between(self, start: date, end: date) -> "EntitlementUseQuerySet":
        return self.filter(used_on__gte=start, used_on__lte=end)


class EntitlementUse(models.Model):
    """A service delivered against the program's entitlements (docs/domain.md §9)."""

    class Kind(models.TextChoices):
        BUSINESS_REVIEW = "business_review", "Business review"
        TRAINING = "training", "Training seat"
        SUCCESS_HOURS = "success_hours", "Success hours"
        SUPPORT = "support", "Assisted support case"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="entitlement_uses")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    used_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EntitlementUseQuerySet.as_manager()

    class Meta:
        ordering = ["-used_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="entitlement_use_positive")]
        indexes = [models.Index(fields=["account", "used_on"], name="entitlement_account_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} x{self.quantity} on {self.used_on}"


# --- Playbook rules ----------------------------------------------------------------------------


class PlaybookRule(models.Model):
    """When a signal fires for an account, open the right task for the right person, once."""

    class Trigger(models.TextChoices):
        NO_TOUCHPOINT = "no_touchpoint", "No touchpoint for N days"
        RENEWAL_NOT_COMMITTED = "renewal_not_committed", "Renewal within N days, not committed"
        CONTACT_LEFT = "contact_left", "Primary or renewal contact left (no successor)"
        ONBOARDING_OVERDUE = "onboarding_overdue", "Onboarding item overdue by N days or more"
        USAGE_DROPPED = "usage_dropped", "Active licenses dropped N% or more over 30 days"
        NOTICE_BOUNCED = "notice_bounced", "Renewal notice bounced or failed"
        HEALTH_WORSENED = "health_worsened", "Health band worsened (in the last N days, default 1)"
        SCORE_DROP = "score_drop", "Health score dropped N points or more"
        HEALTH_CHECK_OVERDUE = "health_check_overdue", "Health check overdue (program cadence)"
        BUSINESS_REVIEW_OVERDUE = "business_review_overdue", "Business review overdue (program entitlement)"

    class Assignee(models.TextChoices):
        OWNER = "owner", "The account's CSM"
        MANAGER = "manager", "The CSM's manager"

    name = models.CharField(max_length=100, unique=True)
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    parameter = models.PositiveIntegerField(
        "N", default=0, help_text="The trigger's N: days, points or percent, as its name says."
    )
    program = models.ForeignKey(
        Program,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        help_text="Only accounts of this program; empty for every program.",
    )
    task_title = models.CharField(max_length=200, help_text="{n} is replaced by N.")
    task_description = models.TextField(blank=True, help_text="{n} is replaced by N; the reason is added.")
    assignee_role = models.CharField(max_length=20, choices=Assignee.choices, default=Assignee.OWNER)
    due_in_days = models.PositiveSmallIntegerField(default=3)
    retrigger_delay_days = models.PositiveSmallIntegerField(
        default=30, help_text="After a run closes, days before the rule may fire again for the account."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def task_key(self) -> str:
        return f"rule:{self.pk}"


class PlaybookRun(models.Model):
    """One firing of a rule for an account; open while its task (key ``rule:<id>``) is open."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    rule = models.ForeignKey(PlaybookRule, on_delete=models.CASCADE, related_name="runs")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="playbook_runs")
    fired_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(max_length=300, blank=True)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-fired_on", "-pk"]
        constraints = [
            # The lock that makes evaluation idempotent: a second insert of an open run conflicts.
            models.UniqueConstraint(
                fields=["account", "rule"], condition=Q(status="open"), name="playbook_run_one_open_per_account_rule"
            )
        ]
        indexes = [models.Index(fields=["rule", "account", "fired_on"], name="playbook_run_rule_account_idx")]

    def __str__(self) -> str:
        return f"{self.rule} for {self.account} on {self.fired_on}"
