"""Surveys the customer answers: when to ask (per program), the invites (the outbox) and the answers."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Account, Contact, Program
from csm import roles


class SurveySettings(models.Model):
    """When a program asks its customers (docs/domain.md §12). The row without a program is the default."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, null=True, blank=True, related_name="survey_settings"
    )
    nps_every_months = models.PositiveSmallIntegerField(
        "NPS every N months", default=6, help_text="0 sends no NPS survey.", validators=[MaxValueValidator(36)]
    )
    nps_to_decision_makers = models.BooleanField("NPS to decision makers", default=True)
    nps_to_champions = models.BooleanField("NPS to champions", default=True)
    csat_after_onboarding = models.BooleanField("CSAT when onboarding completes", default=True)
    csat_support_load = models.PositiveSmallIntegerField(
        "CSAT after a support-heavy month: support load",
        default=0,
        help_text="Ask for CSAT (once a month) when a usage snapshot of this month shows at least this "
        "support load: open cases + 2 x escalations, the health score's support input. 0 never asks.",
    )
    exit_when_lost = models.BooleanField("exit survey when a renewal is lost or lapses", default=True)
    link_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1)], help_text="Days a survey link keeps working."
    )

    class Meta:
        verbose_name_plural = "survey settings"

    def __str__(self) -> str:
        return f"Surveys for {self.program or 'every program'}"

    @classmethod
    def for_program(cls, program_id: int | None) -> "SurveySettings":
        """The program's settings, else the default row, else the built-in defaults (unsaved)."""
        rows = {
            row.program_id: row
            for row in cls.objects.filter(Q(program_id=program_id) | Q(program__isnull=True)).order_by("-pk")
        }
        return rows.get(program_id) or rows.get(None) or cls()


class Survey(models.Model):
    """One asking of one account: an NPS wave, the onboarding CSAT, or the exit survey of a lost renewal."""

    class Kind(models.TextChoices):
        NPS = "nps", "NPS"
        CSAT = "csat", "CSAT"
        EXIT = "exit", "Exit survey"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="surveys")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Why and when: "nps:2026-12-02", "csat:onboarding", "exit:<renewal id>". Unique per account.
    occasion = models.CharField(max_length=60)
    renewal = models.ForeignKey(
        "renewals.Renewal", on_delete=models.SET_NULL, null=True, blank=True, related_name="exit_surveys"
    )
    created_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["account", "kind", "occasion"], name="survey_once_per_occasion")]
        indexes = [models.Index(fields=["kind", "account", "created_on"], name="survey_kind_account_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.account} ({self.occasion})"

    @property
    def question(self) -> str:
        key = (
            SUPPORT_QUESTION if self.kind == self.Kind.CSAT and self.occasion.startswith("csat:support") else self.kind
        )
        return QUESTIONS[key].format(vendor=settings.CSM_VENDOR_NAME or "us")

    @property
    def scale(self) -> list[int]:
        return list(SCALES.get(self.kind, ()))


SUPPORT_QUESTION = "csat:support"
QUESTIONS: dict[str, str] = {
    SUPPORT_QUESTION: "How satisfied are you with the support you received this month?",
    Survey.Kind.NPS: "How likely are you to recommend {vendor} to a friend or colleague?",
    Survey.Kind.CSAT: "How satisfied are you with your onboarding?",
    Survey.Kind.EXIT: "What is the main reason you decided not to renew?",
}
SCALES: dict[str, range] = {Survey.Kind.NPS: range(0, 11), Survey.Kind.CSAT: range(1, 6)}


class SurveyInviteQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "SurveyInviteQuerySet":
        return self.filter(survey__account__in=Account.objects.visible_to(user))


class SurveyInvite(models.Model):
    """One email asking one contact: the outbox row, unique per survey and contact, claimed before sending."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NEEDS_REVIEW = "needs_review", "Outcome unknown"
        SKIPPED = "skipped", "Skipped"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invites")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="survey_invites")
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SurveyInviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["survey", "contact"], name="survey_invite_once_per_contact")]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="survey_invite_status_idx")]

    def __str__(self) -> str:
        return f"{self.survey} to {self.email}"

    def expires_at(self, *, link_days: int) -> datetime | None:
        return self.sent_at + timedelta(days=link_days) if self.sent_at else None


class SurveyResponseQuerySet(models.QuerySet):
    def visible_to(self, user: roles.User) -> "SurveyResponseQuerySet":
        return self.filter(account__in=Account.objects.visible_to(user))

    def answered_between(self, start: date, end: date) -> "SurveyResponseQuerySet":
        return self.filter(answered_on__gte=start, answered_on__lte=end)

    def nps(self) -> "SurveyResponseQuerySet":
        return self.filter(kind=Survey.Kind.NPS, score__isnull=False)


class SurveyResponse(models.Model):
    """A contact's answer to one invite: recorded once, by the first click on a score in the email."""

    # docs/domain.md §12: NPS promoters answer 9-10, passives 7-8, detractors 0-6.
    PROMOTER_MIN = 9
    DETRACTOR_MAX = 6

    invite = models.OneToOneField(SurveyInvite, on_delete=models.CASCADE, related_name="response")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="survey_responses")
    kind = models.CharField(max_length=10, choices=Survey.Kind.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    # Exit surveys: the reason the customer gives, from the same reason codes the CSM chooses from.
    reason = models.ForeignKey(
        "renewals.ReasonCode", on_delete=models.PROTECT, null=True, blank=True, related_name="exit_responses"
    )
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField()
    answered_on = models.DateField()

    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-answered_at", "-pk"]
        indexes = [
            models.Index(fields=["kind", "answered_on"], name="survey_response_kind_day_idx"),
            models.Index(fields=["account", "kind", "answered_on"], name="survey_response_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score if self.score is not None else self.reason} from {self.contact}"

    @classmethod
    def nps_group(cls, score: int | None) -> str:
        """promoter | passive | detractor for an NPS score (docs/domain.md §12)."""
        if score is None:
            return ""
        if score >= cls.PROMOTER_MIN:
            return "promoter"
        return "detractor" if score <= cls.DETRACTOR_MAX else "passive"

    @property
    def group(self) -> str:
        return self.nps_group(self.score) if self.kind == Survey.Kind.NPS else ""

    @property
    def is_detractor(self) -> bool:
        return self.group == "detractor"

    @property
    def tone(self) -> str:
        if self.kind == Survey.Kind.NPS:
            return {"promoter": "positive", "detractor": "negative"}.get(self.group, "")
        if self.kind == Survey.Kind.CSAT and self.score is not None:
            return "positive" if self.score >= 4 else "negative" if self.score <= 2 else ""
        return "negative" if self.kind == Survey.Kind.EXIT else ""


def nps_of(promoters: int, detractors: int, total: int) -> float | None:
    """NPS = % promoters - % detractors, from -100 to 100 (docs/domain.md §12); None with no answers."""
    if not total:
        return None
    return round(100 * (promoters - detractors) / total, 1)
