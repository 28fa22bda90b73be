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


class ReasonCode(models.Model):
    """Why a customer did not renew or downgraded (admin-configured, DOMAIN §8)."""

    class Applies(models.TextChoices):
        LOSS = "loss", "Lost / churned"
        DOWNGRADE = "downgrade", "Downgrade / contraction"
        BOTH = "both", "Both"

    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    applies_to = models.CharField(max_length=20, choices=Applies.choices, default=Applies.BOTH)
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class RenewalQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "RenewalQuerySet":
        return self.filter(contract__account__in=Account.objects.visible_to(user))

    def open(self) -> "RenewalQuerySet":
        return self.filter(stage__in=Renewal.OPEN_STAGES)


class Renewal(models.Model):
    """The renewal of one contract term: the pipeline's unit."""

    class Stage(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        NOTIFIED = "notified", "Notified"
        IN_DISCUSSION = "in_discussion", "In discussion"
        COMMITTED = "committed", "Committed"
        RENEWED = "renewed", "Renewed"
        EXPANDED = "expanded", "Expanded"
        DOWNGRADED = "downgraded", "Downgraded"
        LOST = "lost", "Lost"

    OPEN_STAGES = (Stage.UPCOMING, Stage.NOTIFIED, Stage.IN_DISCUSSION, Stage.COMMITTED)
    CLOSED_STAGES = (Stage.RENEWED, Stage.EXPANDED, Stage.DOWNGRADED, Stage.LOST)

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="renewal")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.UPCOMING, db_index=True)
    owner = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewals")
    forecast_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    uplift_pct = models.DecimalField("uplift %", max_digits=5, decimal_places=2, default=Decimal("0"))
    probability = models.PositiveSmallIntegerField(default=50, help_text="Chance of renewal, 0 to 100 %.")
    close_date = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, null=True, blank=True, related_name="renewals")
    reason_notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RenewalQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract__ends_on"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="renewal_probability_max_100"),
        ]

    def __str__(self) -> str:
        return f"Renewal of {self.contract}"


class RevenueEntryQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "RevenueEntryQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def between(self, start: date, end: date) -> "RevenueEntryQuerySet":
        return self.filter(effective_on__gte=start, effective_on__lte=end)


class RevenueEntry(models.Model):
    """One change of annual recurring revenue (DOMAIN: recurring revenue formulas).

    ``amount`` is the signed change: positive for new and expansion, negative for
    contraction and churn. The sum of entries up to a day is the recurring revenue then.
    """

    class Kind(models.TextChoices):
        NEW = "new", "New logo"
        EXPANSION = "expansion", "Expansion"
        CONTRACTION = "contraction", "Contraction / downgrade"
        CHURN = "churn", "Churn"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="revenue_entries")
    contract = models.ForeignKey(
        Contract, on_delete=models.SET_NULL, null=True, blank=True, related_name="revenue_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    effective_on = models.DateField(db_index=True)
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RevenueEntryQuerySet.as_manager()

    class Meta:
        ordering = ["effective_on", "pk"]
        verbose_name_plural = "revenue entries"
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["new", "expansion"], amount__gt=0))
                | (Q(kind__in=["contraction", "churn"], amount__lt=0)),
                name="revenue_entry_sign_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["account", "effective_on"], name="revenue_account_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.effective_on}"
