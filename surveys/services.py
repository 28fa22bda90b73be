"""Surveys: plan who is asked (daily job and renewal events), send the invites, record the answers.

Sending follows the renewal notices' outbox protocol (docs/architecture.md): the SurveyInvite row
is unique per (survey, contact), a worker claims it (``pending → sending``) before it sends and
marks it ``sent`` after, tasks are published after commit, and a sweeper republishes rows still
waiting; a row cut short after the body left goes to ``needs_review``, never re-sent blindly.
The mail plumbing (sender identity, SMTP/anymail delivery) is the renewal notices' own
(``renewals.emails``).
"""

import logging
import operator
from datetime import date, datetime, timedelta
from functools import reduce

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Program
from csm import freshness
from playbooks import services as playbook_services
from playbooks.models import Task
from renewals import emails
from renewals.models import ReasonCode, Renewal
from renewals.unsubscribe import absolute

from . import signals
from .models import Survey, SurveyInvite, SurveyResponse, SurveySettings

log = logging.getLogger(__name__)

SALT = "surveys.answer"
STUCK_AFTER = timedelta(minutes=15)
SWEEP_BATCH = 2000
CHUNK = 2000
RETRY_AFTER = timedelta(minutes=10)
# Who is asked (docs/domain.md §12). NPS roles come from the program's SurveySettings.
CSAT_ROLES = ("is_primary", "is_champion", "is_technical")
EXIT_ROLES = ("is_decision_maker", "is_renewal", "is_primary")
# Exit surveys go out for renewals lost up to this many days ago (the job catches up missed days).
EXIT_WITHIN_DAYS = 30
CSAT_WITHIN_DAYS = 30
DETRACTOR_TASK_DAYS = 2


# --- Who is asked ------------------------------------------------------------------------------


def recipients(contacts: QuerySet[Contact], *, today: date, roles: tuple[str, ...]) -> QuerySet[Contact]:
    """Current contacts with a working address who did not opt out, holding one of ``roles``."""
    if not roles:
        return contacts.none()
    return (
        contacts.current(today=today)  # type: ignore[attr-defined]  # ContactQuerySet
        .filter(email_opt_out=False, email_bad_at__isnull=True)
        .exclude(email="")
        .filter(reduce(operator.or_, (Q(**{role: True}) for role in roles)))
    )


def nps_roles(survey_settings: SurveySettings) -> tuple[str, ...]:
    return tuple(
        role
        for role, wanted in (
            ("is_decision_maker", survey_settings.nps_to_decision_makers),
            ("is_champion", survey_settings.nps_to_champions),
        )
        if wanted
    )


def roles_for(survey: Survey) -> tuple[str, ...]:
    if survey.kind == Survey.Kind.NPS:
        return nps_roles(SurveySettings.for_program(survey.account.program_id))
    return CSAT_ROLES if survey.kind == Survey.Kind.CSAT else EXIT_ROLES


def _settings_by_program() -> dict[int | None, SurveySettings]:
    return {pid: SurveySettings.for_program(pid) for pid in [None, *Program.objects.values_list("pk", flat=True)]}


# --- Planning ----------------------------------------------------------------------------------


def _create_surveys(rows: list[tuple[int, str, str, int | None]], *, today: date) -> list[int]:
    """Insert (account, kind, occasion, renewal) surveys once each; return the ids of those rows."""
    if not rows:
        return []
    Survey.objects.bulk_create(
        [
            Survey(account_id=account_id, kind=kind, occasion=occasion, renewal_id=renewal_id, created_on=today)
            for account_id, kind, occasion, renewal_id in rows
        ],
        ignore_conflicts=True,
    )
    wanted = Q()
    for account_id, kind, occasion, _ in rows:
        wanted |= Q(account_id=account_id, kind=kind, occasion=occasion)
    return list(Survey.objects.filter(wanted).values_list("pk", flat=True))


def _invite(survey_ids: list[int], *, today: date) -> list[int]:
    """Create the invites of these surveys (once per contact); return the ids of pending, unpublished ones."""
    created: list[SurveyInvite] = []
    surveys = Survey.objects.filter(pk__in=survey_ids).select_related("account")
    settings_for = _settings_by_program()
    for survey in surveys:
        survey_settings = settings_for.get(survey.account.program_id) or settings_for[None]
        roles = nps_roles(survey_settings) if survey.kind == Survey.Kind.NPS else roles_for(survey)
        contacts = recipients(Contact.objects.filter(account_id=survey.account_id), today=today, roles=roles)
        created += [
            SurveyInvite(survey=survey, contact_id=contact_id, email=email.lower())
            for contact_id, email in contacts.values_list("pk", "email")
        ]
    SurveyInvite.objects.bulk_create(created, ignore_conflicts=True)
    return list(
        SurveyInvite.objects.filter(
            survey_id__in=survey_ids, status=SurveyInvite.Status.PENDING, enqueued_at__isnull=True
        ).values_list("pk", flat=True)
    )


def _due_nps(*, today: date) -> list[tuple[int, str, str, int | None]]:
    rows: list[tuple[int, str, str, int | None]] = []
    for program_id, survey_settings in _settings_by_program().items():
        roles = nps_roles(survey_settings)
        if not survey_settings.nps_every_months or not roles:
            continue
        since = today - relativedelta(months=survey_settings.nps_every_months)
        accounts = (
            Account.objects.active()
            .filter(program_id=program_id)
            .exclude(surveys__kind=Survey.Kind.NPS, surveys__created_on__gt=since)
            .filter(contacts__in=recipients(Contact.objects.all(), today=today, roles=roles))
            .distinct()
        )
        occasion = f"nps:{today.isoformat()}"
        rows += [(pk, Survey.Kind.NPS, occasion, None) for pk in accounts.values_list("pk", flat=True)]
    return rows


def _due_csat(*, today: date) -> list[tuple[int, str, str, int | None]]:
    """Accounts whose onboarding checklist became complete in the last CSAT_WITHIN_DAYS days."""
    programs = [pid for pid, s in _settings_by_program().items() if s.csat_after_onboarding]
    program_filter = Q(program_id__in=[p for p in programs if p is not None])
    if None in programs:
        program_filter |= Q(program__isnull=True)
    accounts = (
        Account.objects.active()
        .filter(program_filter)
        .annotate(
            items=Count("onboarding_items"),
            open_items=Count("onboarding_items", filter=Q(onboarding_items__completed_on__isnull=True)),
            finished_on=Max("onboarding_items__completed_on"),
        )
        .filter(items__gt=0, open_items=0, finished_on__gte=today - timedelta(days=CSAT_WITHIN_DAYS))
        .exclude(surveys__kind=Survey.Kind.CSAT, surveys__occasion="csat:onboarding")
    )
    return [(pk, Survey.Kind.CSAT, "csat:onboarding", None) for pk in accounts.values_list("pk", flat=True)]


def _due_exit(*, today: date, renewal_ids: list[int] | None = None) -> list[tuple[int, str, str, int | None]]:
    programs = [pid for pid, s in _settings_by_program().items() if s.exit_when_lost]
    program_filter = Q(contract__program_id__in=[p for p in programs if p is not None])
    if None in programs:
        program_filter |= Q(contract__program__isnull=True)
    lost = Renewal.objects.filter(
        program_filter, stage=Renewal.Stage.LOST, closed_on__gte=today - timedelta(days=EXIT_WITHIN_DAYS)
    ).exclude(exit_surveys__isnull=False)
    if renewal_ids is not None:
        lost = lost.filter(pk__in=renewal_ids)
    pairs = lost.values_list("pk", "contract__account_id")
    return [(account_id, Survey.Kind.EXIT, f"exit:{pk}", pk) for pk, account_id in pairs]


@transaction.atomic
def plan_due_surveys(*, today: date, now: datetime, publish: bool = True) -> dict:
    """Every survey due as of today, once: NPS waves, onboarding CSAT, exit surveys of lost renewals.

    Safe to run twice: a survey is unique per (account, kind, occasion), an NPS survey is due only
    when the account had none within the program's interval, an invite is unique per contact.
    """
    counts: dict[str, int] = {}
    invite_ids: list[int] = []
    last = freshness.last_id(Survey.objects.all())
    for kind, rows in (
        (Survey.Kind.NPS, _due_nps(today=today)),
        (Survey.Kind.CSAT, _due_csat(today=today)),
        (Survey.Kind.EXIT, _due_exit(today=today)),
    ):
        counts[kind] = len(rows)
        for start in range(0, len(rows), CHUNK):
            survey_ids = _create_surveys(rows[start : start + CHUNK], today=today)
            invite_ids += _invite(survey_ids, today=today)
    if publish and invite_ids:
        publish_after_commit(invite_ids, now=now)
    if any(counts.values()):
        owners = set(Survey.objects.filter(pk__gt=last).values_list("account__owner_id", flat=True).distinct())
        transaction.on_commit(lambda: freshness.bump_changed(owners))
    return {"surveys": counts, "invites": len(invite_ids)}


@transaction.atomic
def plan_exit_survey(*, renewal: Renewal, today: date, now: datetime) -> list[int]:
    """The exit survey of one lost renewal (on the stage-change signal); the daily job catches up misses."""
    rows = _due_exit(today=today, renewal_ids=[renewal.pk])
    invite_ids = _invite(_create_surveys(rows, today=today), today=today)
    if invite_ids:
        publish_after_commit(invite_ids, now=now)
    return invite_ids


def publish_after_commit(invite_ids: list[int], *, now: datetime) -> None:
    """After commit, publish each send, then mark it enqueued; a broker that is down leaves rows for the sweeper."""
    from . import tasks

    def publish() -> None:
        done: list[int] = []
        try:
            for invite_id in invite_ids:
                tasks.send_survey_invite.delay(invite_id)
                done.append(invite_id)
        finally:
            for start in range(0, len(done), CHUNK):
                SurveyInvite.objects.filter(
                    pk__in=done[start : start + CHUNK], status=SurveyInvite.Status.PENDING
                ).update(enqueued_at=now)

    transaction.on_commit(publish, robust=True)


# --- Links -------------------------------------------------------------------------------------


def token_for(invite: SurveyInvite, answer: int | str) -> str:
    """The signed link of one answer: a score, or an exit reason code's id (0: something else)."""
    return signing.TimestampSigner(salt=SALT).sign_object({"i": invite.pk, "a": answer})


def answer_url(invite: SurveyInvite, answer: int | str) -> str:
    return absolute(reverse("surveys-public:answer", args=[token_for(invite, answer)]))


def open_link(token: str) -> tuple[SurveyInvite, int | str]:
    """The invite and answer a link stands for; ValidationError when tampered with or expired."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token)
    except signing.BadSignature as exc:
        raise ValidationError("This link is not valid.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int | str):
        raise ValidationError("This link is not valid.")
    invite_id = payload.get("i")
    invite = (
        SurveyInvite.objects.select_related("survey__account__program", "survey__account__owner", "contact")
        .filter(pk=invite_id)
        .first()
        if isinstance(invite_id, int)
        else None
    )
    if invite is None:
        raise ValidationError("This link is not valid.")
    days = SurveySettings.for_program(invite.survey.account.program_id).link_days
    try:
        signer.unsign_object(token, max_age=timedelta(days=days))
    except signing.SignatureExpired as exc:
        raise ValidationError("This link has expired.") from exc
    return invite, payload["a"]


def _exit_reasons() -> QuerySet[ReasonCode]:
    return ReasonCode.objects.filter(is_active=True, applies_to__in=[ReasonCode.Applies.LOSS, ReasonCode.Applies.BOTH])


# --- Answers -----------------------------------------------------------------------------------


@transaction.atomic
def record_response(*, invite: SurveyInvite, answer: int | str, now: datetime) -> tuple[SurveyResponse, bool]:
    """Record the first answer of an invite; a later click changes nothing. Returns (response, created).

    An NPS detractor (0-6) opens a follow-up task for the account's CSM, once per survey.
    """
    invite = SurveyInvite.objects.select_for_update().select_related("survey__account", "contact").get(pk=invite.pk)
    existing = SurveyResponse.objects.filter(invite=invite).first()
    if existing is not None:
        return existing, False
    survey = invite.survey
    score, reason = None, None
    if survey.kind == Survey.Kind.EXIT:
        reason = _exit_reasons().filter(pk=answer).first() if isinstance(answer, int) and answer else None
        if answer != 0 and reason is None:
            raise ValidationError({"answer": "This answer is not one of the survey's."})
    elif not isinstance(answer, int) or answer not in survey.scale:
        raise ValidationError({"answer": "This answer is not one of the survey's."})
    else:
        score = answer
    response = SurveyResponse.objects.create(
        invite=invite,
        account_id=survey.account_id,
        contact_id=invite.contact_id,
        kind=survey.kind,
        score=score,
        reason=reason,
        answered_at=now,
        answered_on=timezone.localtime(now).date(),
    )
    if response.is_detractor:
        _open_detractor_task(response, survey=survey, today=response.answered_on)
    owner_id = survey.account.owner_id
    # The customer is not signed in: the owner's cached pages (Today, the account) are refreshed here.
    transaction.on_commit(lambda: freshness.bump([owner_id] if owner_id else []))
    account = survey.account
    transaction.on_commit(
        lambda: signals.survey_answered.send(
            sender=SurveyResponse,
            response=response,
            account=account,
            score=response.score,
            answered_on=response.answered_on,
        )
    )
    return response, True


def _open_detractor_task(response: SurveyResponse, *, survey: Survey, today: date) -> Task:
    contact = response.contact
    task, _ = playbook_services.open_task(
        account=survey.account,
        title=f"Call {contact.name}: NPS {response.score}",
        due_on=today + timedelta(days=DETRACTOR_TASK_DAYS),
        key=f"survey:detractor:{survey.pk}",
        reason=f"{contact.name} answered {response.score} to the NPS survey (a detractor: 0-6).",
        source=Task.Source.JOB,
    )
    return task


@transaction.atomic
def add_comment(*, response: SurveyResponse, comment: str) -> SurveyResponse:
    """The optional comment after the score; given once, then kept as written."""
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": "Write a comment, or close this page."})
    if len(comment) > 2000:
        raise ValidationError({"comment": "Keep it under 2,000 characters."})
    response = SurveyResponse.objects.select_for_update().get(pk=response.pk)
    if response.comment:
        raise ValidationError({"comment": "Your comment is already recorded."})
    response.comment = comment
    response.save(update_fields=["comment"])
    owner_id = Account.objects.filter(pk=response.account_id).values_list("owner_id", flat=True).first()
    transaction.on_commit(lambda: freshness.bump([owner_id] if owner_id else []))
    return response


# --- Sending -----------------------------------------------------------------------------------


def invite_context(invite: SurveyInvite) -> dict:
    survey = invite.survey
    account = survey.account
    csm_name, csm_email = emails.csm_identity(account.owner)
    if survey.kind == Survey.Kind.EXIT:
        options = [(reason.label, answer_url(invite, reason.pk)) for reason in _exit_reasons()]
        options.append(("Something else", answer_url(invite, 0)))
    else:
        options = [(str(score), answer_url(invite, score)) for score in survey.scale]
    return {
        "survey": survey,
        "question": survey.question,
        "options": options,
        "account": account.name,
        "vendor": settings.CSM_VENDOR_NAME,
        "contact_first_name": invite.contact.name.split(" ")[0] if invite.contact.name else "",
        "csm_name": csm_name,
        "csm_email": csm_email,
        "link_days": SurveySettings.for_program(account.program_id).link_days,
    }


def build_message(invite: SurveyInvite) -> EmailMultiAlternatives:
    context = invite_context(invite)
    sender, recipient, reply_to = emails.addresses(
        csm_name=context["csm_name"], csm_email=context["csm_email"], to_name=invite.contact.name, to=invite.email
    )
    subject = emails.one_line(f"{context['question']} ({context['vendor']})")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("surveys/emails/invite.txt", context),
        from_email=sender,
        to=[recipient],
        reply_to=[reply_to],
        headers={
            "Message-ID": f"<survey-invite-{invite.pk}@{emails.message_domain()}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("surveys/emails/invite.html", context), "text/html")
    return message


def _why_not(invite: SurveyInvite, *, today: date) -> str:
    contacts = recipients(Contact.objects.filter(pk=invite.contact_id), today=today, roles=roles_for(invite.survey))
    return "" if contacts.exists() else "contact left, opted out, bounced or lost the role before sending"


def _hand_over(rows: QuerySet[SurveyInvite], *, now: datetime) -> None:
    rows.update(handed_over_at=now)


def send_survey_invite(*, invite_id: int, now: datetime) -> str:
    """Claim the invite, send it, record the outcome (each step commits on its own, as notices do)."""
    claimed = SurveyInvite.objects.filter(pk=invite_id, status=SurveyInvite.Status.PENDING).update(
        status=SurveyInvite.Status.SENDING, claimed_at=now, handed_over_at=None, attempts=F("attempts") + 1
    )
    if not claimed:
        return "not claimed"
    invite = SurveyInvite.objects.select_related("survey__account__owner", "contact").get(pk=invite_id)
    rows = SurveyInvite.objects.filter(pk=invite_id)
    why_not = _why_not(invite, today=timezone.localtime(now).date())
    if why_not:
        rows.update(status=SurveyInvite.Status.SKIPPED, last_error=why_not)
        return "skipped"
    try:
        message = build_message(invite)
        emails.deliver(message, before_data=lambda: _hand_over(rows, now=now))
    except emails.PermanentSendError as exc:
        rows.update(status=SurveyInvite.Status.FAILED, last_error=str(exc)[:500])
        return "failed"
    except emails.UnknownOutcomeError as exc:
        rows.update(status=SurveyInvite.Status.NEEDS_REVIEW, last_error=f"outcome unknown: {exc}"[:500])
        return "needs review"
    except (emails.ServerRefusedError, emails.TransientSendError) as exc:
        rows.update(
            status=SurveyInvite.Status.PENDING,
            claimed_at=None,
            enqueued_at=None,
            next_attempt_at=now + RETRY_AFTER,
            last_error=str(exc)[:500],
        )
        return "delayed"
    rows.update(status=SurveyInvite.Status.SENT, sent_at=now, last_error="", next_attempt_at=None)
    return "sent"


@transaction.atomic
def sweep_survey_invites(*, now: datetime) -> dict:
    """Republish invites still waiting; reset those a killed worker left before sending; flag the rest."""
    stale = now - STUCK_AFTER
    stuck = SurveyInvite.objects.filter(status=SurveyInvite.Status.SENDING, claimed_at__lt=stale)
    reset = stuck.filter(handed_over_at__isnull=True).update(
        status=SurveyInvite.Status.PENDING, claimed_at=None, enqueued_at=None, last_error="worker stopped; retried"
    )
    unknown = stuck.filter(handed_over_at__isnull=False).update(
        status=SurveyInvite.Status.NEEDS_REVIEW, last_error="worker stopped mid-send"
    )
    due = list(
        SurveyInvite.objects.filter(status=SurveyInvite.Status.PENDING)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due:
        publish_after_commit(due, now=now)
    return {"republished": len(due), "reset": reset, "needs_review": unknown}


def receive_lost_renewal(*, renewal: Renewal, now: datetime) -> None:
    """After commit of a renewal marked lost (or lapsed): its exit survey. Never raises (the job catches up)."""
    try:
        plan_exit_survey(renewal=renewal, today=timezone.localtime(now).date(), now=now)
    except (IntegrityError, ValidationError):
        log.exception("exit survey for renewal %s not planned; the daily job retries", renewal.pk)
