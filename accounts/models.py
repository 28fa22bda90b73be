import functools
import json
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan
from simple_history.models import HistoricalRecords

from csm import roles

LATEST_RUN_MAX_AGE_DAYS = 7


def default_time_zone() -> str:
    """New accounts start in the server's time zone (``TIME_ZONE``)."""
    return settings.TIME_ZONE


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone name, for a select."""
    return [(name, name.replace("_", " ")) for name in sorted(time_zone_names())]


@functools.cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA time zone name, e.g. Europe/Paris or America/New_York: one of the select's (and the
    API schema's) names, not any file zoneinfo happens to open."""
    if value not in time_zone_names():
        raise ValidationError("Enter a time zone name such as Europe/Paris or America/New_York.")


class Program(models.Model):
    """A service tier: what the customer is entitled to and how we run their lifecycle."""

    class SupportLevel(models.TextChoices):
        STANDARD = "standard", "Standard (business hours)"
        PRIORITY = "priority", "Priority (24x5)"
        PREMIUM = "premium", "Premium (24x7, named engineer)"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # Entitlements (docs/domain.md §9).
    business_reviews_per_year = models.PositiveSmallIntegerField(default=1)
    training_seats = models.PositiveSmallIntegerField(default=0)
    success_hours = models.PositiveSmallIntegerField(default=0)
    support_level = models.CharField(max_length=20, choices=SupportLevel.choices, default=SupportLevel.STANDARD)
    # Cadences (docs/domain.md §5).
    health_check_cadence_days = models.PositiveSmallIntegerField(default=90, validators=[MinValueValidator(1)])
    touch_cadence_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="Most days allowed without a touchpoint."
    )
    # Renewal notices (docs/domain.md §8): at least two months ahead.
    answer_link_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days a renewal notice's answer links keep working (renewals/answers.py)."
    )
    answer_contacts_at_once = models.BooleanField(
        default=False,
        help_text="A contact named through “I'm not the right person” is added at once, without the CSM confirming.",
    )
    renewal_notice_lead_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(60)],
        help_text="Days before the contract ends when the first renewal notice goes out (60 or more).",
    )
    # docs/domain.md: a contract past its end with no outcome is overdue, then lapses (churn).
    renewal_grace_days = models.PositiveSmallIntegerField(
        "renewal grace period (days)",
        default=30,
        help_text="Days after a contract ends without an outcome before it lapses and counts as churn.",
    )
    # When renewal notices may leave, in each account's own time zone (renewals/timing.py).
    # The defaults, 0 to 24 every day, mean "any time".
    notice_send_from_hour = models.PositiveSmallIntegerField(
        "notices leave from (hour)",
        default=0,
        validators=[MaxValueValidator(23)],
        help_text="Local hour in the account's time zone, 0 to 23, from which renewal notices may leave.",
    )
    notice_send_until_hour = models.PositiveSmallIntegerField(
        "notices leave until (hour)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Local hour, 1 to 24, before which they must leave (24: until midnight).",
    )
    notice_send_weekdays = models.CharField(
        "notices leave on weekdays",
        max_length=7,
        default="1234567",
        validators=[RegexValidator(r"^[1-7]{1,7}$", "Use the digits 1 (Monday) to 7 (Sunday), e.g. 12345.")],
        help_text="Days renewal notices may leave: 1 = Monday … 7 = Sunday, e.g. 12345 for weekdays.",
    )
    notices_need_approval = models.BooleanField(
        "renewal notices need approval",
        default=False,
        help_text="Each day's renewal notices wait until the CSM or a manager approves them (Renewals → Approvals).",
    )
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.notice_send_from_hour >= self.notice_send_until_hour:
            raise ValidationError({"notice_send_until_hour": "The window must end after it starts."})

    @property
    def has_send_window(self) -> bool:
        return (self.notice_send_from_hour, self.notice_send_until_hour, set(self.notice_send_weekdays)) != (
            0,
            24,
            set("1234567"),
        )


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


def visible_owner_ids(user: roles.User) -> list[int] | None:
    """``book_owner_ids`` read into a list (None for everything); a CSM's without a query."""
    if not roles.sees_everything(user) and not roles.is_manager(user):
        return [user.pk]
    owners = book_owner_ids(user)
    return None if owners is None else list(owners.values_list("pk", flat=True))


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
    _loaded_owner_id: int | None  # the owner when loaded (accounts/receivers.py)

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
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text="The id in your CRM or billing system.",
        # Not "already exists": the answer does not tell which ids other books hold (docs/security.md).
        error_messages={"unique": "This id cannot be used."},
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
        "accounts.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    lifecycle_stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.ONBOARDING)
    # Rows the ORM writes start in TIME_ZONE; rows written by SQL alone (bulk loads) in UTC.
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        db_default="UTC",
        validators=[validate_time_zone],
        help_text="The customer's time zone (e.g. Europe/Paris): renewal notices leave in its working hours.",
    )
    # The latest touchpoint's occurred_at, kept by services.refresh_last_touch whenever touchpoints
    # change: "not heard from" on the Today page reads it down an index instead of probing the
    # touchpoints of every account in the book.
    last_touch_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()
    # Owner, program, segment and stage changes made in the app show in the audit log.
    history = HistoricalRecords(excluded_fields=["last_touch_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "name"], name="account_owner_name_idx"),
            # "Accounts of these owners" answered from the index alone (ids for semi-joins).
            models.Index(fields=["owner", "id"], name="account_owner_id_idx"),
            # The longest silences first: in one book, or in every book.
            models.Index(fields=["owner", "last_touch_at", "id"], name="account_owner_touch_idx"),
            models.Index(fields=["last_touch_at", "id"], name="account_last_touch_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet):
    def current(self, *, today: date) -> "ContactQuerySet":
        """Contacts still at the customer on ``today``."""
        return self.filter(Q(left_on__isnull=True) | Q(left_on__gt=today))

    def renewal_recipients(self, *, today: date) -> "ContactQuerySet":
        """Who receives renewal notices (docs/domain.md, "Renewals"): the set-based form of
        ``Contact.renewal_exclusion``."""
        holds_a_renewal_role = Q()
        for field in Contact.RENEWAL_ROLE_FIELDS:
            holds_a_renewal_role |= Q(**{field: True})
        return (
            self.current(today=today)
            .filter(email_opt_out=False, email_bad_at__isnull=True)
            .exclude(email="")
            .filter(holds_a_renewal_role)
        )

    def visible_to(self, user: roles.User) -> "ContactQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def awaiting_successor(self, *, today: date) -> "ContactQuerySet":
        """Primary or renewal contacts who left with nobody named to take over (DOMAIN §8)."""
        return self.filter(left_on__isnull=False, left_on__lte=today, successor__isnull=True).filter(
            Q(is_primary=True) | Q(was_primary=True) | Q(is_renewal=True)
        )


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True, db_default="")
    title = models.CharField(max_length=200, blank=True)
    is_decision_maker = models.BooleanField("decision maker", default=False)
    is_renewal = models.BooleanField("renewal contact", default=False)
    is_billing = models.BooleanField("billing contact", default=False)
    is_champion = models.BooleanField("champion", default=False)
    is_technical = models.BooleanField("technical contact", default=False)
    is_executive_sponsor = models.BooleanField("executive sponsor", default=False)
    is_primary = models.BooleanField("primary contact", default=False)
    # Set when a primary contact leaves (services.mark_contact_left hands ``is_primary`` to the
    # successor or clears it): the "primary contact left" rule still knows who they were.
    was_primary = models.BooleanField("was the primary contact", default=False, db_default=False, editable=False)
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
    email_opt_out_at = models.DateTimeField(null=True, blank=True)
    email_opt_out_source = models.CharField(max_length=50, blank=True, help_text="How the contact opted out.")
    # A hard bounce or a complaint: no more notices to this address until someone fixes it.
    email_bad_at = models.DateTimeField(null=True, blank=True)
    email_bad_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContactQuerySet.as_manager()
    history = HistoricalRecords()

    # The one list of contact roles: field, label and the name the handoff and CSV import use.
    # A contact who leaves hands every one of these to their successor.
    ROLES = (
        ("is_decision_maker", "Decision maker", "decision_maker"),
        ("is_renewal", "Renewal", "renewal"),
        ("is_billing", "Billing", "billing"),
        ("is_champion", "Champion", "champion"),
        ("is_technical", "Technical", "technical"),
        ("is_executive_sponsor", "Executive sponsor", "executive_sponsor"),
    )
    ROLE_FIELDS = tuple((field, label) for field, label, _ in ROLES)
    # Every flag a handoff or an import may set by name: the roles, then "primary".
    ROLE_FLAGS = {**{name: field for field, _, name in ROLES}, "primary": "is_primary"}
    # Who receives renewal notices: the holders of these roles (docs/domain.md, "Renewals").
    RENEWAL_ROLE_FIELDS = ("is_decision_maker", "is_renewal", "is_billing")

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

    def renewal_exclusion(self, today: date) -> str:
        """Why this contact receives no renewal notice on ``today``, or "" when they do."""
        if self.has_left(today):
            return "left"
        if self.email_opt_out:
            return "opted out"
        if self.email_bad_at is not None:
            return "email bounced"
        if not self.email:
            return "no email"
        if not any(getattr(self, field) for field in self.RENEWAL_ROLE_FIELDS):
            return "no renewal role"
        return ""

    def receives_renewal_notices(self, today: date) -> bool:
        return not self.renewal_exclusion(today)


class TouchpointQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "TouchpointQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))


class Touchpoint(models.Model):
    _loaded_account_id: int | None  # the account when loaded (accounts/receivers.py)

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
        # Carries the outcome so the nightly health job counts positive touchpoints from the index alone
        # (PostgreSQL; other databases get the plain index).
        indexes = [
            models.Index(fields=["account", "-occurred_at"], include=["outcome"], name="touchpoint_account_when_cov")
        ]

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
        indexes = [
            # The expansion job's "licences full" signal reads the snapshots over 90 % in use
            # (10 x active > 9 x purchased, as growth.services writes it) by date.
            models.Index(
                fields=["date", "account"],
                name="usage_licences_high_idx",
                condition=Q(licenses_purchased__gt=0)
                & Q(GreaterThan(F("licenses_active") * 10, F("licenses_purchased") * 9)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} usage on {self.date}"

    @property
    def license_utilization(self) -> float | None:
        if not self.licenses_purchased:
            return None
        return self.licenses_active / self.licenses_purchased


# --- Health (issue #4) ----------------------------------------------------------------------
# The score is configured per program (a default model for the rest), recalculated nightly by
# set-based SQL (health/sql.py) and kept as one HealthScore row per account per day.


class FloatListField(models.Field):
    """A list of numbers (nulls allowed): ``double precision[]`` on PostgreSQL, JSON text on SQLite.

    HealthScore keeps its components this way because building a JSON document per row costs more
    than all the rest of the nightly recalculation of a million accounts.
    """

    description = "List of floats"

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "double precision[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(
        self, value: str | list | None, expression: object, connection: BaseDatabaseWrapper
    ) -> list | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def to_python(self, value: str | list | None) -> list | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def get_db_prep_value(self, value: list | None, connection: BaseDatabaseWrapper, prepared: bool = False) -> object:
        if value is None:
            return None
        numbers = [None if item is None else float(item) for item in value]
        return numbers if connection.vendor == "postgresql" else json.dumps(numbers)


class HealthModelQuerySet(models.QuerySet["HealthModel"]):
    def default(self) -> "HealthModel":
        """The model for accounts whose program has none; created with the standard components if missing."""
        model, created = self.get_or_create(is_default=True, defaults={"name": "Default"})
        if created:
            HealthComponent.objects.bulk_create(
                HealthComponent(model=model, kind=kind, weight=weight, worst=worst, best=best)
                for kind, weight, worst, best in HealthComponent.DEFAULTS
            )
        return model


class HealthModel(models.Model):
    """How health is scored for one program, or (``is_default``) for every account whose program has no model."""

    name = models.CharField(max_length=100)
    program = models.OneToOneField(
        "accounts.Program", on_delete=models.CASCADE, null=True, blank=True, related_name="health_model"
    )
    is_default = models.BooleanField(default=False, help_text="Used for accounts whose program has no model.")
    green_min = models.PositiveSmallIntegerField(
        default=70, validators=[MaxValueValidator(100)], help_text="Scores from this value up are green."
    )
    yellow_min = models.PositiveSmallIntegerField(
        default=40, validators=[MaxValueValidator(100)], help_text="Scores from this value up (below green) are yellow."
    )
    drop_alert_points = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Flag an account for playbooks when its score drops by more than this in one calculation.",
    )

    objects = HealthModelQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="healthmodel_one_default"
            ),
            models.CheckConstraint(
                condition=Q(is_default=True, program__isnull=True) | Q(is_default=False, program__isnull=False),
                name="healthmodel_default_xor_program",
            ),
            models.CheckConstraint(condition=Q(green_min__gt=F("yellow_min")), name="healthmodel_green_above_yellow"),
        ]

    def __str__(self) -> str:
        return self.name


class HealthComponent(models.Model):
    """One input of a health model: its weight and the two thresholds that map the input onto 0 to 100.

    The input scores 0 at ``worst`` and 100 at ``best``, linearly between, clamped outside; ``best``
    may be below ``worst`` (fewer open cases is healthier).
    """

    class Kind(models.TextChoices):
        ADOPTION = "adoption", "Adoption (% of licenses active)"
        FEATURE_DEPTH = "feature_depth", "Feature depth (% advanced users)"
        ONBOARDING = "onboarding", "Onboarding completion (%)"
        SUCCESS_PLAN = "success_plan", "Success plan realization (% milestones reached)"
        ENGAGEMENT_RECENCY = "engagement_recency", "Engagement recency (days since last touchpoint)"
        ENGAGEMENT_QUALITY = "engagement_quality", "Engagement quality (% positive touchpoints, 90 days)"
        SUPPORT = "support", "Support load (open cases + 2 x escalations)"
        AVAILABILITY = "availability", "Availability (%)"
        SENTIMENT = "sentiment", "CSM sentiment (latest health check, 1 to 5)"
        COMMERCIAL = "commercial", "Commercial (renewal stage and revenue trend, 0 to 100)"
        # Last, so scores stored before it existed keep their parts layout (unpack_parts pads them).
        SURVEY = "survey", "Customer surveys (mean NPS answer 0 to 10, last 180 days)"

    # kind, weight, worst, best: the standard model (weights sum to 100).
    DEFAULTS = (
        (Kind.ADOPTION, 20, Decimal("20"), Decimal("85")),
        (Kind.FEATURE_DEPTH, 10, Decimal("5"), Decimal("40")),
        (Kind.ONBOARDING, 10, Decimal("0"), Decimal("100")),
        (Kind.SUCCESS_PLAN, 10, Decimal("0"), Decimal("80")),
        (Kind.ENGAGEMENT_RECENCY, 10, Decimal("90"), Decimal("7")),
        (Kind.ENGAGEMENT_QUALITY, 10, Decimal("10"), Decimal("80")),
        (Kind.SUPPORT, 10, Decimal("8"), Decimal("0")),
        (Kind.AVAILABILITY, 5, Decimal("95"), Decimal("99.9")),
        (Kind.SENTIMENT, 10, Decimal("1"), Decimal("5")),
        (Kind.COMMERCIAL, 5, Decimal("20"), Decimal("90")),
    )

    model = models.ForeignKey(HealthModel, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    weight = models.PositiveSmallIntegerField(default=10, help_text="Relative weight; 0 leaves the input out.")
    worst = models.DecimalField(max_digits=8, decimal_places=2, help_text="Input value that scores 0.")
    best = models.DecimalField(max_digits=8, decimal_places=2, help_text="Input value that scores 100.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["model", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["model", "kind"], name="healthcomponent_one_per_kind"),
            models.CheckConstraint(condition=~Q(best=F("worst")), name="healthcomponent_best_differs_from_worst"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, weight {self.weight}"


class HealthScoreQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "HealthScoreQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def on(self, day: date) -> "HealthScoreQuerySet":
        return self.filter(day=day)

    def flagged(self) -> "HealthScoreQuerySet":
        return self.filter(flagged=True)

    def last_day(self, *, before: date, inclusive: bool = False) -> date | None:
        """The latest scored day before ``before`` (or on it, ``inclusive``): looked for in the
        last 35 days first, which the day indexes of the recent months answer at once; only when
        there is none (a gap of over a month) in the older months, whose BRIN indexes cannot
        answer a MAX without reading them (docs/architecture.md, "Health history")."""
        bound = Q(day__lte=before) if inclusive else Q(day__lt=before)
        recent = self.filter(bound, day__gte=before - timedelta(days=35)).aggregate(d=models.Max("day"))["d"]
        return recent if recent is not None else self.filter(bound).aggregate(d=models.Max("day"))["d"]

    def latest_run(self, *, today: date) -> "HealthScoreQuerySet":
        """The scores of the latest nightly run on or before ``today`` and at most a week old:
        what "an account's current health" means on every page (a run older than that is stale,
        and the account shows no band)."""
        latest_day = (
            HealthScore.objects.filter(day__lte=today, day__gte=today - timedelta(days=LATEST_RUN_MAX_AGE_DAYS))
            .order_by("-day")
            .values("day")[:1]
        )
        return self.filter(day=models.Subquery(latest_day))


class HealthScore(models.Model):
    """An account's health on one day: the overall score and every component's part in it.

    ``components`` maps each component kind to ``{"input", "score", "base", "weight", "contribution"}``
    (plus ``n``/``d`` details, or ``stage``/``trend`` for the commercial input): ``input`` and
    ``score`` are null when the input is missing, and then ``weight`` (the effective share, %) is 0
    because it was spread over the others. It is stored packed in ``parts``, a flat list of numbers
    (see ``PART_KINDS`` and ``PART_FIELDS``). One row per account per day, keyed by (account, day);
    recalculating a day replaces it.

    Layout (docs/architecture.md, "Health history"): on PostgreSQL the table is partitioned by month
    of ``day`` (``health.partitions`` creates months ahead and drops them past retention); rows older
    than ``HEALTH_PARTS_DAYS`` keep only score, band and flags (``retention.services``).
    """

    class Band(models.TextChoices):
        GREEN = "green", "Green"
        YELLOW = "yellow", "Yellow"
        RED = "red", "Red"

    # Best to worst: a band "worsens" when its rank grows.
    BAND_RANK = {Band.GREEN: 0, Band.YELLOW: 1, Band.RED: 2}

    # The key: (account, day) is the only unique index, and it serves every lookup by account.
    pk = models.CompositePrimaryKey("account", "day")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_scores", db_index=False)
    day = models.DateField()
    # No index: a model is rarely deleted, and every index slows the nightly write of every row.
    model = models.ForeignKey(
        HealthModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    band = models.CharField(max_length=10, choices=Band.choices)
    previous_score = models.PositiveSmallIntegerField(null=True, blank=True)
    previous_band = models.CharField(max_length=10, choices=Band.choices, blank=True, default="")
    score_drop = models.SmallIntegerField(
        null=True, blank=True, help_text="Previous score minus this one: positive when health fell."
    )
    band_worsened = models.BooleanField(default=False)
    flagged = models.BooleanField(
        default=False, help_text="Band worsened, or the score dropped by more than the model's alert amount."
    )
    check_overdue = models.BooleanField(default=False, help_text="No health check within the program's cadence.")
    # Null once the row is older than HEALTH_PARTS_DAYS (retention.services.thin_health_parts).
    parts = FloatListField(null=True, default=list, help_text="Every component's numbers, packed; read ``components``.")

    objects = HealthScoreQuerySet.as_manager()

    class Meta:
        ordering = ["account", "-day"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="healthscore_score_max_100"),
        ]
        indexes = [
            # Playbooks read the day's flagged rows; a partial index stays small and cheap to write.
            models.Index(fields=["day"], condition=Q(flagged=True), name="healthscore_flagged_day_idx"),
            # A day's rows (the latest run, reports, band changes): a btree on the day alone, which
            # PostgreSQL deduplicates to a few bytes per row (the key leads every other lookup).
            models.Index(fields=["day"], name="healthscore_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account} health {self.score} on {self.day}"

    @staticmethod
    def band_of(score: int, *, green_min: int, yellow_min: int) -> str:
        """Score → band under a health model's thresholds (the nightly SQL has its twin)."""
        if score >= green_min:
            return HealthScore.Band.GREEN
        if score >= yellow_min:
            return HealthScore.Band.YELLOW
        return HealthScore.Band.RED

    @property
    def components(self) -> dict[str, dict]:
        return unpack_parts(self.parts)

    @components.setter
    def components(self, value: dict[str, dict]) -> None:
        self.parts = pack_parts(value)


# HealthScore.parts layout: for each kind in PART_KINDS, the PART_FIELDS in order. For the commercial
# input, n is the renewal stage's position in STAGE_CODES and d the revenue trend (%).
PART_KINDS = tuple(HealthComponent.Kind.values)
PART_FIELDS = ("input", "score", "base", "n", "d")
STAGE_CODES = ("upcoming", "notified", "in_discussion", "committed", "renewed", "expanded", "downgraded", "lost")


def unpack_parts(parts: list | None) -> dict[str, dict]:
    """The components of a stored score; the effective weight and the contribution are derived,
    with the same arithmetic as ``health.scoring.score_inputs``."""
    if not parts:
        return {}
    width = len(PART_FIELDS)
    # A row stored before a kind was added (at the end) has no parts for it: it had no input.
    parts = list(parts) + [None] * (width * len(PART_KINDS) - len(parts))
    rows = [dict(zip(PART_FIELDS, parts[i * width : (i + 1) * width], strict=True)) for i in range(len(PART_KINDS))]
    present = 0.0
    for values in rows:
        present = present + (0.0 if values["score"] is None else values["base"])
    out = {}
    for kind, values in zip(PART_KINDS, rows, strict=True):
        s, base = values["score"], values["base"] or 0.0
        values["weight"] = 0.0 if s is None else 100.0 * base / present
        values["contribution"] = 0.0 if s is None else s * base / present
        n, d = values.pop("n"), values.pop("d")
        if kind == HealthComponent.Kind.COMMERCIAL:
            values["stage"] = STAGE_CODES[round(n)] if n is not None else None
            values["trend"] = d
        elif n is not None or d is not None:
            values["n"], values["d"] = _whole(n), _whole(d)
        out[kind] = values
    return out


def pack_parts(components: dict[str, dict]) -> list[float | None]:
    parts: list[float | None] = []
    for kind in PART_KINDS:
        part = dict(components.get(kind) or {})
        if kind == HealthComponent.Kind.COMMERCIAL:
            stage = part.get("stage")
            part["n"] = float(STAGE_CODES.index(stage)) if stage else None
            part["d"] = part.get("trend")
        parts += [None if part.get(name) is None else float(part[name]) for name in PART_FIELDS]
    return parts


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


class HealthCheckQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "HealthCheckQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))


class HealthCheck(models.Model):
    """A CSM's periodic health check or account review (e.g. a quarterly business review)."""

    class Kind(models.TextChoices):
        HEALTH_CHECK = "health_check", "Health check"
        BUSINESS_REVIEW = "business_review", "Quarterly business review"
        ACCOUNT_REVIEW = "account_review", "Account review"

    class Sentiment(models.IntegerChoices):
        VERY_NEGATIVE = 1, "Very negative"
        NEGATIVE = 2, "Negative"
        NEUTRAL = 3, "Neutral"
        POSITIVE = 4, "Positive"
        VERY_POSITIVE = 5, "Very positive"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_checks")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HEALTH_CHECK)
    held_on = models.DateField()
    sentiment = models.PositiveSmallIntegerField(choices=Sentiment.choices)
    notes = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="health_checks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HealthCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(sentiment__gte=1, sentiment__lte=5), name="healthcheck_sentiment_1_to_5")
        ]
        indexes = [models.Index(fields=["account", "-held_on"], name="healthcheck_account_held_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.account} on {self.held_on}"


class StageChange(models.Model):
    """One move of an account's lifecycle stage, by rule or by hand: the timeline and the audit show it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Account.Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Account.Stage.choices)
    on = models.DateField()
    reason = models.CharField(max_length=200)
    by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-on", "-pk"]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_stage} → {self.to_stage} on {self.on}"
