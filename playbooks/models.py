from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords


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
