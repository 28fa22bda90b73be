from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from . import roles


class Team(models.Model):
    """A group of CSMs led by a manager: the manager sees the members' books."""

    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_teams")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def book_owner_ids(user: roles.User) -> models.QuerySet | None:
    """The owner ids whose accounts ``user`` sees, or None for everything."""
    if roles.sees_everything(user):
        return None
    users = get_user_model().objects
    if roles.is_manager(user):
        return users.filter(Q(pk=user.pk) | Q(teams__manager=user)).values("pk")
    return users.filter(pk=user.pk).values("pk")


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "AccountQuerySet":
        if not user.is_authenticated:
            return self.none()
        owners = book_owner_ids(user)
        return self if owners is None else self.filter(owner__in=owners)

    def editable_by(self, user: roles.User) -> "AccountQuerySet":
        if not roles.can_write(user):
            return self.none()
        return self.visible_to(user)

    def active(self) -> "AccountQuerySet":
        return self.exclude(lifecycle_stage=Account.Stage.CHURNED)


class Account(models.Model):
    class Segment(models.TextChoices):
        SMB = "smb", "SMB"
        MID_MARKET = "mid_market", "Mid-market"
        ENTERPRISE = "enterprise", "Enterprise"

    class Stage(models.TextChoices):
        ONBOARDING = "onboarding", "Onboarding"
        ADOPTION = "adoption", "Adoption"
        MATURE = "mature", "Mature"
        RENEWAL = "renewal", "Renewal"
        AT_RISK = "at_risk", "At risk"
        CHURNED = "churned", "Churned"

    name = models.CharField(max_length=200, db_index=True)
    external_id = models.CharField(
        max_length=100, unique=True, null=True, blank=True, help_text="The id in your CRM or billing system."
    )
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.SMB)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
        help_text="The success manager who owns this account.",
    )
    program = models.ForeignKey(
        "playbooks.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    lifecycle_stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.ONBOARDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["owner", "name"], name="account_owner_name_idx")]

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet):
    def current(self, *, today: date) -> "ContactQuerySet":
        """Contacts still at the customer on ``today``."""
        return self.filter(Q(left_on__isnull=True) | Q(left_on__gt=today))

    def renewal_recipients(self, *, today: date) -> "ContactQuerySet":
        """Who receives renewal notices (DOMAIN §8): decision maker, renewal and billing
        contacts still at the customer who have not opted out."""
        return (
            self.current(today=today)
            .filter(email_opt_out=False)
            .exclude(email="")
            .filter(Q(is_decision_maker=True) | Q(is_renewal=True) | Q(is_billing=True))
        )

    def visible_to(self, user: roles.User) -> "ContactQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    is_decision_maker = models.BooleanField("decision maker", default=False)
    is_renewal = models.BooleanField("renewal contact", default=False)
    is_billing = models.BooleanField("billing contact", default=False)
    is_champion = models.BooleanField("champion", default=False)
    is_technical = models.BooleanField("technical contact", default=False)
    is_executive_sponsor = models.BooleanField("executive sponsor", default=False)
    is_primary = models.BooleanField("primary contact", default=False)
    left_on = models.DateField("left the company on", null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="predecessors",
        help_text="Who took over after this contact left.",
    )
    email_opt_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContactQuerySet.as_manager()

    ROLE_FIELDS = (
        ("is_decision_maker", "Decision maker"),
        ("is_renewal", "Renewal"),
        ("is_billing", "Billing"),
        ("is_champion", "Champion"),
        ("is_technical", "Technical"),
        ("is_executive_sponsor", "Executive sponsor"),
    )

    class Meta:
        ordering = ["-is_primary", "name"]
        indexes = [models.Index(fields=["account", "left_on"], name="contact_account_left_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def role_labels(self) -> list[str]:
        return [label for field, label in self.ROLE_FIELDS if getattr(self, field)]

    def has_left(self, today: date) -> bool:
        return self.left_on is not None and self.left_on <= today


class TouchpointQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "TouchpointQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))


class Touchpoint(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        VISIT = "visit", "Visit"
        EMAIL = "email", "Email"
        BUSINESS_REVIEW = "business_review", "Business review"
        SUPPORT_CASE = "support_case", "Support case"
        TRAINING = "training", "Training"

    class Outcome(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="touchpoints")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="touchpoints")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CALL)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.NEUTRAL)
    notes = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="touchpoints"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TouchpointQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="touchpoint_account_when_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.account} on {self.occurred_at:%Y-%m-%d}"


class UsageSnapshotQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "UsageSnapshotQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def between(self, start: date, end: date) -> "UsageSnapshotQuerySet":
        return self.filter(date__gte=start, date__lte=end)


class UsageSnapshot(models.Model):
    """What the customer used on one day: one row per account per day."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_snapshots")
    date = models.DateField()
    licenses_purchased = models.PositiveIntegerField(default=0)
    licenses_active = models.PositiveIntegerField(default=0)
    basic_users = models.PositiveIntegerField(default=0)
    advanced_users = models.PositiveIntegerField(default=0)
    availability_pct = models.DecimalField(
        "availability %",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    open_support_cases = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)

    objects = UsageSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="usage_one_per_account_day"),
            models.CheckConstraint(
                condition=Q(availability_pct__isnull=True) | Q(availability_pct__gte=0, availability_pct__lte=100),
                name="usage_availability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} usage on {self.date}"

    @property
    def license_utilization(self) -> float | None:
        if not self.licenses_purchased:
            return None
        return self.licenses_active / self.licenses_purchased
