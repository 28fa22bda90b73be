"""Expansion opportunities, the signals that suggest them, and renewal checkpoints.

docs/domain.md §10 (expansion) and §11 (renewal checkpoints) define every rule used here.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Account
from csm import roles


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "OpportunityQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def open(self) -> "OpportunityQuerySet":
        return self.filter(stage=Opportunity.Stage.OPEN)


class Opportunity(models.Model):
    """A chance to grow an account's recurring revenue: more seats, another product, services."""

    class Kind(models.TextChoices):
        UPSELL = "upsell", "Upsell"
        CROSS_SELL = "cross_sell", "Cross-sell"
        SEATS = "seats", "More seats"
        SERVICES = "services", "Services"

    class Stage(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    amount = models.DecimalField(
        "added recurring amount per year",
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(max_length=3, default="USD")
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.OPEN, db_index=True)
    probability = models.PositiveSmallIntegerField(
        default=50, validators=[MaxValueValidator(100)], help_text="Chance of winning, 0 to 100 %."
    )
    close_date = models.DateField(help_text="When it is expected to close.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="opportunities"
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why this opportunity exists, in one line.")
    closed_on = models.DateField(null=True, blank=True)
    lost_reason = models.CharField(max_length=300, blank=True)
    # The ledger entry a win wrote (renewals.services.change_contract_amount).
    revenue_entry = models.OneToOneField(
        "renewals.RevenueEntry", on_delete=models.SET_NULL, null=True, blank=True, related_name="opportunity"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["close_date", "pk"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="opportunity_amount_positive"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_max_100"),
        ]
        indexes = [models.Index(fields=["stage", "close_date"], name="opportunity_stage_close_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.account})"

    @property
    def weighted_amount(self) -> Decimal:
        """docs/domain.md §10: amount x probability, for an open opportunity."""
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class SuggestionQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "SuggestionQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def pending(self) -> "SuggestionQuerySet":
        return self.filter(status=Suggestion.Status.NEW)


class Suggestion(models.Model):
    """A signal that an account may be ready to grow, raised once per (account, signal, period)."""

    class Signal(models.TextChoices):
        LICENCES_FULL = "licences_full", "Licences over 90 % in use for 30 days"
        ENTITLEMENT_USED_UP = "entitlement_used_up", "An entitlement used up"
        MILESTONE_REACHED = "milestone_reached", "A success-plan milestone reached"
        PROMOTER = "promoter", "A promoter's survey score"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    # The kind of opportunity each signal suggests.
    KIND_FOR = {
        Signal.LICENCES_FULL: Opportunity.Kind.SEATS,
        Signal.ENTITLEMENT_USED_UP: Opportunity.Kind.SERVICES,
        Signal.MILESTONE_REACHED: Opportunity.Kind.UPSELL,
        Signal.PROMOTER: Opportunity.Kind.CROSS_SELL,
    }

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="suggestions")
    signal = models.CharField(max_length=30, choices=Signal.choices)
    # What makes the signal a new one: a quarter, a contract term and kind, a milestone, a survey answer.
    period = models.CharField(max_length=60)
    reason = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Opportunity.Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    raised_on = models.DateField()
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestion"
    )

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "signal", "period"], name="suggestion_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.get_signal_display()}: {self.account}"


class CheckpointSchedule(models.Model):
    """When renewal checkpoints fall for one program (or, with no program, for all others)."""

    program = models.OneToOneField(
        "accounts.Program",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checkpoint_schedule",
        help_text="Leave empty for the default used by programs without their own.",
    )
    days_before = models.CharField(
        max_length=100,
        default="180,90",
        help_text="Days before the contract ends when csm and the CSM each make a call, comma-separated.",
    )

    class Meta:
        ordering = ["program__name"]

    def __str__(self) -> str:
        return f"Checkpoints for {self.program or 'all other programs'}: {self.days_before}"

    def points(self) -> list[int]:
        return sorted({int(p) for p in self.days_before.replace(" ", "").split(",") if p.isdigit()}, reverse=True)


class CheckpointQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "CheckpointQuerySet":
        return self.filter(renewal__contract__account__in=Account.objects.visible_to(user))

    def awaiting_call(self) -> "CheckpointQuerySet":
        return self.filter(csm_call="")


class Checkpoint(models.Model):
    """One renewal checkpoint: csm's automated risk call beside the CSM's own (docs/domain.md §11)."""

    class Call(models.TextChoices):
        LIKELY = "likely", "Likely to renew"
        AT_RISK = "at_risk", "At risk"
        WILL_CHURN = "will_churn", "Will churn"

    # The call a closed renewal's outcome proves right (docs/domain.md §11).
    RIGHT_CALL = {
        "renewed": Call.LIKELY,
        "expanded": Call.LIKELY,
        "downgraded": Call.AT_RISK,
        "lost": Call.WILL_CHURN,
    }

    renewal = models.ForeignKey("renewals.Renewal", on_delete=models.CASCADE, related_name="checkpoints")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="checkpoints")
    days_before = models.PositiveSmallIntegerField()
    recorded_on = models.DateField()
    auto_call = models.CharField(max_length=20, choices=Call.choices)
    auto_reason = models.CharField(max_length=300)
    csm_call = models.CharField(max_length=20, choices=Call.choices, blank=True)
    csm_note = models.TextField(blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    called_on = models.DateField(null=True, blank=True)
    # The CSM the call was asked of (the renewal's owner when the checkpoint was recorded).
    asked_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="checkpoints"
    )
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CheckpointQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["renewal", "days_before"], name="checkpoint_once_per_point"),
        ]

    def __str__(self) -> str:
        return f"T-{self.days_before} checkpoint of {self.renewal}"

    @property
    def disagrees(self) -> bool:
        return bool(self.csm_call) and self.csm_call != self.auto_call

    @property
    def task_key(self) -> str:
        return f"growth:checkpoint:{self.pk}"
