from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts import roles


class Program(models.Model):
    """A service tier: what the customer is entitled to and how we run their lifecycle."""

    class SupportLevel(models.TextChoices):
        STANDARD = "standard", "Standard (business hours)"
        PRIORITY = "priority", "Priority (24x5)"
        PREMIUM = "premium", "Premium (24x7, named engineer)"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # Entitlements (DOMAIN §9).
    business_reviews_per_year = models.PositiveSmallIntegerField(default=1)
    training_seats = models.PositiveSmallIntegerField(default=0)
    success_hours = models.PositiveSmallIntegerField(default=0)
    support_level = models.CharField(max_length=20, choices=SupportLevel.choices, default=SupportLevel.STANDARD)
    # Cadences (DOMAIN §5).
    health_check_cadence_days = models.PositiveSmallIntegerField(default=90, validators=[MinValueValidator(1)])
    touch_cadence_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="Most days allowed without a touchpoint."
    )
    # Renewal notices (DOMAIN §8): at least two months ahead.
    renewal_notice_lead_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(60)],
        help_text="Days before the contract ends when the first renewal notice goes out (60 or more).",
    )
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
        indexes = [models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_status_due_idx")]

    def __str__(self) -> str:
        return self.title


class OnboardingItem(models.Model):
    """One step of an account's onboarding checklist (DOMAIN §2)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="onboarding_items")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)
    due_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["account", "position", "pk"]
        indexes = [models.Index(fields=["account", "completed_on"], name="onboarding_account_done_idx")]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date) -> bool:
        return self.completed_on is None and self.due_on < today


class SuccessPlan(models.Model):
    """Objectives and measurable milestones agreed with the customer (DOMAIN §3)."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="success_plan")
    title = models.CharField(max_length=200, default="Success plan")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.title} ({self.account})"


class Objective(models.Model):
    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

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

    class Meta:
        ordering = ["objective", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title
