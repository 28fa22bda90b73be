from datetime import date, timedelta
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from accounts import roles
from accounts.models import Account


class ContractQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "ContractQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def active(self) -> "ContractQuerySet":
        return self.filter(status=Contract.Status.ACTIVE)

    def ending_within(self, *, today: date, days: int) -> "ContractQuerySet":
        return self.filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=days))


class Contract(models.Model):
    """One term of a subscription or service contract: recurring revenue, not one-time fees."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RENEWED = "renewed", "Renewed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contracts")
    program = models.ForeignKey(
        "playbooks.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(db_index=True)
    recurring_amount = models.DecimalField(
        "recurring amount per year",
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(max_length=3, default="USD")
    auto_renew = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    previous = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_term")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContractQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["ends_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="contract_ends_after_start"),
            models.CheckConstraint(condition=Q(recurring_amount__gte=0), name="contract_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["status", "ends_on"], name="contract_status_ends_idx")]

    def __str__(self) -> str:
        return f"{self.account} {self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d}"

    def days_left(self, today: date) -> int:
        return (self.ends_on - today).days
