from datetime import date, timedelta
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from accounts.models import Account
from csm import roles


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
        "accounts.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
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
        indexes = [
            # Covering: the Today page's notice window is checked (account, program) and counted
            # from the index alone.
            models.Index(
                fields=["status", "ends_on"],
                include=["account", "program", "id"],
                name="contract_status_ends_cover_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d}"

    def days_left(self, today: date) -> int:
        return (self.ends_on - today).days


class ReasonCode(models.Model):
    """Why a customer did not renew or downgraded (admin-configured, docs/domain.md §8)."""

    class Applies(models.TextChoices):
        LOSS = "loss", "Lost / churned"
        DOWNGRADE = "downgrade", "Downgrade / contraction"
        BOTH = "both", "Both"
        EXPANSION = "expansion", "Expansion (gains by reason)"

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

    def closed(self) -> "RenewalQuerySet":
        return self.filter(stage__in=Renewal.CLOSED_STAGES)

    def ending_within(self, *, today: date, days: int) -> "RenewalQuerySet":
        return self.filter(contract__ends_on__gte=today, contract__ends_on__lte=today + timedelta(days=days))

    def needing_contacts(self) -> "RenewalQuerySet":
        """Open renewals whose notices reach fewer than two people (the dashboard flag)."""
        return self.open().filter(contact_coverage__in=[Renewal.Coverage.SINGLE_CONTACT, Renewal.Coverage.NO_CONTACT])


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

    class Coverage(models.TextChoices):
        UNCHECKED = "", "Not checked yet"
        OK = "ok", "Two or more renewal contacts"
        SINGLE_CONTACT = "single_contact", "Single point of contact"
        NO_CONTACT = "no_contact", "No renewal contact"

    OPEN_STAGES = (Stage.UPCOMING, Stage.NOTIFIED, Stage.IN_DISCUSSION, Stage.COMMITTED)
    CLOSED_STAGES = (Stage.RENEWED, Stage.EXPANDED, Stage.DOWNGRADED, Stage.LOST)
    # Follow-up notices go out only while the customer has not committed.
    FOLLOW_UP_STAGES = (Stage.UPCOMING, Stage.NOTIFIED, Stage.IN_DISCUSSION)
    # The committed forecast: agreed, or already renewed (docs/domain.md, "Renewal forecast").
    COMMITTED_STAGES = (Stage.COMMITTED, Stage.RENEWED, Stage.EXPANDED, Stage.DOWNGRADED)
    # The weighted forecast's chance of renewal per stage, in % (shown in admin and on the renewals page).
    STAGE_PROBABILITY = {
        Stage.UPCOMING: 30,
        Stage.NOTIFIED: 40,
        Stage.IN_DISCUSSION: 60,
        Stage.COMMITTED: 90,
        Stage.RENEWED: 100,
        Stage.EXPANDED: 100,
        Stage.DOWNGRADED: 100,
        Stage.LOST: 0,
    }

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
    # The day the lifecycle job found the contract past its end with this renewal still open.
    overdue_on = models.DateField(null=True, blank=True)
    contact_coverage = models.CharField(
        max_length=20,
        choices=Coverage.choices,
        default=Coverage.UNCHECKED,
        blank=True,
        db_index=True,
        help_text="How many eligible renewal contacts the notices reach; set by the daily planner.",
    )
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

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES

    @property
    def stage_probability(self) -> int:
        """The weighted forecast's probability for this renewal's stage (``STAGE_PROBABILITY``)."""
        return self.STAGE_PROBABILITY[Renewal.Stage(self.stage)]

    @property
    def renewal_amount(self) -> Decimal:
        """What the next term is forecast to bring: the forecast, else this term with its uplift."""
        if self.forecast_amount is not None:
            return self.forecast_amount
        return (self.contract.recurring_amount * (1 + self.uplift_pct / 100)).quantize(Decimal("0.01"))


class RevenueEntryQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "RevenueEntryQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def between(self, start: date, end: date) -> "RevenueEntryQuerySet":
        return self.filter(effective_on__gte=start, effective_on__lte=end)


class RevenueEntry(models.Model):
    """One change of annual recurring revenue (docs/domain.md, "Recurring revenue").

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
    # A reversal cancels one earlier entry (same kind, opposite sign, same day): a lapse undone by a
    # late renewal. The pair nets to zero in every sum by kind, so nothing is counted twice.
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RevenueEntryQuerySet.as_manager()

    class Meta:
        ordering = ["effective_on", "pk"]
        verbose_name_plural = "revenue entries"
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["new", "expansion"], amount__gt=0, reverses__isnull=True))
                | (Q(kind__in=["contraction", "churn"], amount__lt=0, reverses__isnull=True))
                | Q(reverses__isnull=False),
                name="revenue_entry_sign_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["account", "effective_on"], name="revenue_account_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.effective_on}"


class NoticeSchedule(models.Model):
    """When renewal notices go out for one program (or, with no program, for all others).

    The first notice goes ``Program.renewal_notice_lead_days`` before the contract ends (60
    for contracts without a program); follow-ups go on the listed days while the renewal
    is not committed.
    """

    program = models.OneToOneField(
        "accounts.Program",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notice_schedule",
        help_text="Leave empty for the default schedule used by programs without their own.",
    )
    follow_up_days = models.CharField(
        max_length=100,
        blank=True,
        default="30,14",
        help_text="Days before the end for follow-up notices, comma-separated, e.g. 30,14. Empty for none.",
    )
    is_active = models.BooleanField(default=True, help_text="Uncheck to stop planning notices for this program.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["program__name"]

    def __str__(self) -> str:
        return f"Notice schedule for {self.program or 'all other programs'}"

    def follow_ups(self) -> list[int]:
        return sorted({int(part) for part in self.follow_up_days.replace(" ", "").split(",") if part}, reverse=True)


class NoticeTemplate(models.Model):
    """The renewal-notice email for one program (or the default): subject, text and HTML bodies.

    Bodies are Django templates rendered in a sandbox (no includes, no tag libraries) with
    plain values only; see ``renewals.emails.CONTEXT_HELP`` for the variables.
    """

    program = models.OneToOneField(
        "accounts.Program",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notice_template",
        help_text="Leave empty for the default template used by programs without their own.",
    )
    subject = models.CharField(max_length=200)
    text_body = models.TextField()
    html_body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["program__name"]

    def __str__(self) -> str:
        return f"Notice template for {self.program or 'all other programs'}"


class RenewalNoticeQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "RenewalNoticeQuerySet":
        return self.filter(contract__account__in=Account.objects.visible_to(user))

    def for_account(self, account: Account) -> "RenewalNoticeQuerySet":
        return self.filter(contract__account=account)

    def delivered(self) -> "RenewalNoticeQuerySet":
        return self.filter(status=RenewalNotice.Status.SENT)

    def problems(self) -> "RenewalNoticeQuerySet":
        """Notices a person must look at: failed, bounced, or stuck with an unknown outcome."""
        return self.filter(status__in=RenewalNotice.NEEDS_A_PERSON)

    def for_sending(self) -> "RenewalNoticeQuerySet":
        """With what sending reads: the contract's account and its owner, the program, the renewal
        and its owner, the contact (renewals.services.sending, renewals.emails)."""
        return self.select_related("contract__account__owner", "contract__program", "renewal__owner", "contact")


class RenewalNotice(models.Model):
    """One renewal email to one contact for one cycle of one contract term: the outbox row.

    ``cycle`` names which notice of the term it is (``first``, ``follow-up-30`` ...). The
    unique keys make planning idempotent: a second plan, or a second beat, inserts nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NEEDS_REVIEW = "needs_review", "Needs review"
        BOUNCED = "bounced", "Bounced"
        SKIPPED = "skipped", "Skipped"
        # A program whose notices need approval (Program.notices_need_approval): the CSM or a
        # manager approves (then pending), edits or holds each one (renewals/approvals.py).
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        HELD = "held", "Held"

    FIRST = "first"
    # Not sent and still meant to go (or to be decided): closing the renewal or an opt-out skips them.
    NOT_YET_SENT = (Status.PENDING, Status.AWAITING_APPROVAL, Status.HELD)
    # The approval queue.
    IN_REVIEW = (Status.AWAITING_APPROVAL, Status.HELD)
    # The statuses a person must look at and resolve (resend, or accept): nothing retries them.
    NEEDS_A_PERSON = (Status.FAILED, Status.BOUNCED, Status.NEEDS_REVIEW)
    # Of those, the ones that surely did not reach the contact (needs review: nobody knows).
    UNDELIVERED = (Status.FAILED, Status.BOUNCED)

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="notices")
    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="notices")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.PROTECT, related_name="renewal_notices")
    cycle = models.CharField(max_length=30)
    # Lower-cased address at planning time: one email per address and cycle, whoever holds it.
    email = models.CharField(max_length=254)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    scheduled_on = models.DateField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a send task was last published; empty rows wait for the sweeper to publish them.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set just before the message body goes to the SMTP server: from then on the outcome of
    # a crash is unknown, so the sweeper sends the row to review instead of sending again.
    handed_over_at = models.DateTimeField(null=True, blank=True)
    # A mail server that is away delays a notice instead of failing it: the sweeper publishes
    # the row again from ``next_attempt_at`` on, until NOTICE_MAX_DELAY_HOURS after ``failing_since``.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    # Outside the program's send window in the account's time zone, a pending notice waits until
    # its next opening: nobody publishes or sends it before (renewals/timing.py).
    not_before = models.DateTimeField(null=True, blank=True)
    # The message as the CSM edited it in the approval queue; empty: the program's template.
    edited_subject = models.CharField(max_length=200, blank=True, default="", db_default="")
    edited_text = models.TextField(blank=True, default="", db_default="")
    reviewed_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    # What the mail provider last reported (renewals/delivery.py ranks them; never moves back).
    delivery = models.CharField(max_length=20, blank=True, default="", db_default="")
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RenewalNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_on", "pk"]
        constraints = [
            # (contract, cycle) first: the planner asks "has this cycle of this contract begun?".
            models.UniqueConstraint(fields=["contract", "cycle", "contact"], name="notice_once_per_contact_cycle"),
            models.UniqueConstraint(fields=["contract", "cycle", "email"], name="notice_once_per_email_cycle"),
        ]
        indexes = [
            models.Index(fields=["status", "enqueued_at"], name="notice_status_enqueued_idx"),
            models.Index(fields=["renewal", "scheduled_on"], name="notice_renewal_day_idx"),
            # The approval queue: few rows, read by status.
            models.Index(
                fields=["status", "scheduled_on"],
                name="notice_in_review_idx",
                condition=Q(status__in=["awaiting_approval", "held"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} notice to {self.email} ({self.status})"

    @property
    def cycle_label(self) -> str:
        if self.cycle == self.FIRST:
            return "First notice"
        return f"Follow-up ({self.cycle.removeprefix('follow-up-')} days)"


class NoticeEvent(models.Model):
    """One delivery event a mail provider reported for a notice (renewals/delivery.py).

    Unique per (provider, event id): a provider that delivers its webhook twice adds nothing.
    """

    notice = models.ForeignKey(RenewalNotice, on_delete=models.CASCADE, related_name="events")
    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=30)
    recipient = models.CharField(max_length=254, blank=True)
    occurred_at = models.DateTimeField()
    description = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="notice_event_once")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} for notice {self.notice_id}"


class RenewalAnswer(models.Model):
    """What a notice's recipient answered through a signed link in the notice (renewals/answers.py).

    One row per (notice, kind): a second click on the same link changes that answer only.
    """

    class Kind(models.TextChoices):
        PLAN_TO_RENEW = "renew", "We plan to renew"
        LETS_TALK = "talk", "Let's talk"
        NOT_RIGHT_PERSON = "wrong_person", "I'm not the right person"

    class Role(models.TextChoices):
        DECISION_MAKER = "is_decision_maker", "Decision maker"
        RENEWAL = "is_renewal", "Renewal contact"
        BILLING = "is_billing", "Billing"

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="answers")
    notice = models.ForeignKey(RenewalNotice, on_delete=models.CASCADE, related_name="answers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    named_name = models.CharField(max_length=200, blank=True)
    named_email = models.EmailField(blank=True)
    named_role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    # The contact created from the named person: at once, or when the CSM confirms.
    new_contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["notice", "kind"], name="answer_once_per_notice_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.notice.email})"

    @property
    def awaits_confirmation(self) -> bool:
        return self.kind == self.Kind.NOT_RIGHT_PERSON and self.new_contact_id is None


class ExchangeRate(models.Model):
    """What one unit of ``currency`` is worth in the base (reporting) currency from a day on.

    Admin keeps the table (audited); ``renewals.currency.Rates`` reads it, and every total in
    the base currency goes through ``Rates.convert`` (docs/domain.md, "Currencies").
    """

    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    rate = models.DecimalField(
        "rate to base",
        max_digits=20,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text="Units of the base currency for one unit of this currency.",
    )
    effective_from = models.DateField(help_text="The rate applies to totals as of this day until the next rate.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["currency", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "effective_from"], name="exchange_rate_one_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate.normalize()} from {self.effective_from}"

    def clean(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ValidationError

        self.currency = (self.currency or "").strip().upper()
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationError({"currency": "Use a three-letter ISO 4217 code, e.g. EUR."})
        if self.currency == settings.CSM_BASE_CURRENCY:
            raise ValidationError({"currency": "This is the base currency: its rate is always 1."})
