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
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Program, UsageSnapshot
from csm import freshness
from playbooks import services as playbook_services
from playbooks.models import OnboardingItem, Task
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
CSAT_ONBOARDING = "csat:onboarding"
# A support-heavy month: a snapshot of this calendar month at or over the program's support load.
CSAT_SUPPORT = "csat:support"
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
    """Each program's settings (its own row, else the default row, else the built-in defaults): two queries."""
    rows = {row.program_id: row for row in SurveySettings.objects.order_by("-pk")}
    default = rows.get(None) or SurveySettings()
    return {pid: rows.get(pid, default) for pid in [None, *Program.objects.values_list("pk", flat=True)]}


# --- Planning ----------------------------------------------------------------------------------


# Contact role columns a survey may ask; a planned row carries one flag per column (its kind's roles).
ROLE_COLUMNS = ("is_decision_maker", "is_champion", "is_primary", "is_technical", "is_renewal")
# Publish at most this many sends per planning run; the sweeper publishes the rest in batches,
# as renewal notices do (a first NPS wave over a large book is not a million broker calls at once).
ENQUEUE_LIMIT = 2000

Due = tuple[int, str, str, int | None, tuple[str, ...]]  # account, kind, occasion, renewal, roles


def _role_flags(roles: tuple[str, ...]) -> list[bool]:
    return [column in roles for column in ROLE_COLUMNS]


def _insert_surveys(rows: list[Due], *, today: date, now: datetime) -> list[tuple[int, int]]:
    """One ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` for a chunk: (survey, row index) of new rows."""
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for index, (account_id, kind, occasion, renewal_id, _) in enumerate(rows):
        params += [index, account_id, str(kind), occasion, renewal_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO surveys_survey (account_id, kind, occasion, renewal_id, created_on, created_at)
            SELECT due.column2, due.column3, due.column4, CAST(due.column5 AS BIGINT), %s, %s
            FROM (VALUES {values}) AS due
            WHERE TRUE
            ON CONFLICT DO NOTHING
            RETURNING id, account_id, kind, occasion
            """,  # noqa: S608 - only placeholders are interpolated.
            [today, now, *params],
        )
        created = cursor.fetchall()
    index_of = {(account_id, kind, occasion): i for i, (account_id, kind, occasion, _, _) in enumerate(rows)}
    return [(pk, index_of[account_id, kind, occasion]) for pk, account_id, kind, occasion in created]


def _insert_invites(rows: list[Due], created: list[tuple[int, int]], *, today: date, now: datetime) -> list[int]:
    """One set-based insert per chunk: an invite per new survey and current contact in one of its roles."""
    if not created:
        return []
    values = ", ".join(["(%s, %s" + ", %s" * len(ROLE_COLUMNS) + ")"] * len(created))
    params: list = []
    for survey_id, index in created:
        params += [survey_id, rows[index][0], *_role_flags(rows[index][4])]
    wants = " OR ".join(f"(due.column{3 + i} AND ct.{column})" for i, column in enumerate(ROLE_COLUMNS))
    # The chunk's accounts as a range too: the due rows come in account order, so PostgreSQL reads
    # only this range of contacts by index instead of hashing every contact of the book per chunk.
    accounts = [rows[index][0] for _, index in created]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO surveys_surveyinvite (survey_id, contact_id, email, status, attempts, last_error,
                                              created_at, updated_at)
            SELECT due.column1, ct.id, LOWER(ct.email), %s, 0, '', %s, %s
            FROM (VALUES {values}) AS due
            JOIN accounts_contact ct ON ct.account_id = due.column2
            WHERE ct.account_id BETWEEN %s AND %s
              AND ct.email <> '' AND ct.email_opt_out = %s AND ct.email_bad_at IS NULL
              AND (ct.left_on IS NULL OR ct.left_on > %s) AND ({wants})
            ON CONFLICT DO NOTHING
            RETURNING id
            """,  # noqa: S608 - only placeholders and fixed column names are interpolated.
            [SurveyInvite.Status.PENDING, now, now, *params, min(accounts), max(accounts), False, today],
        )
        return [row[0] for row in cursor.fetchall()]


def _plan(rows: list[Due], *, today: date, now: datetime) -> tuple[int, list[int]]:
    """Surveys and invites for ``rows``, two statements per chunk; (surveys created, new invite ids)."""
    surveys, invites = 0, []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        created = _insert_surveys(chunk, today=today, now=now)
        surveys += len(created)
        invites += _insert_invites(chunk, created, today=today, now=now)
    return surveys, invites


def _program_q(program_ids: list[int | None], *, prefix: str = "") -> Q:
    """Rows of these programs (None: accounts without a program)."""
    q = Q(**{f"{prefix}program_id__in": [p for p in program_ids if p is not None]})
    if None in program_ids:
        q |= Q(**{f"{prefix}program__isnull": True})
    return q


def _has_recipient(*, today: date, roles: tuple[str, ...]) -> Exists:
    return Exists(recipients(Contact.objects.filter(account_id=OuterRef("pk")), today=today, roles=roles))


def _due_nps(*, today: date) -> list[Due]:
    """Accounts with a recipient and no NPS survey within their program's interval: one query per
    distinct (interval, roles) of the programs' settings, so programs on the same settings share a
    pass over the book."""
    rows: list[Due] = []
    occasion = f"nps:{today.isoformat()}"
    alike: dict[tuple[int, tuple[str, ...]], list[int | None]] = {}
    for program_id, survey_settings in _settings_by_program().items():
        roles = nps_roles(survey_settings)
        if survey_settings.nps_every_months and roles:
            alike.setdefault((survey_settings.nps_every_months, roles), []).append(program_id)
    for (every_months, roles), program_ids in alike.items():
        since = today - relativedelta(months=every_months)
        recent = Survey.objects.filter(account_id=OuterRef("pk"), kind=Survey.Kind.NPS, created_on__gt=since)
        accounts = (
            Account.objects.active()
            .filter(_program_q(program_ids))
            .filter(_has_recipient(today=today, roles=roles))
            .exclude(Exists(recent))
        )
        rows += [
            (pk, Survey.Kind.NPS, occasion, None, roles) for pk in accounts.values_list("pk", flat=True).order_by("pk")
        ]
    return rows


def _due_csat(*, today: date) -> list[Due]:
    """Accounts whose onboarding checklist became complete in the last CSAT_WITHIN_DAYS days."""
    programs = [pid for pid, s in _settings_by_program().items() if s.csat_after_onboarding]
    if not programs:
        return []
    since = today - timedelta(days=CSAT_WITHIN_DAYS)
    items = OnboardingItem.objects.filter(account_id=OuterRef("pk"))
    accounts = (
        Account.objects.active()
        .filter(_program_q(programs))
        .filter(Exists(items.filter(completed_on__gte=since)))
        .exclude(Exists(items.filter(completed_on__isnull=True)))
        .exclude(
            Exists(Survey.objects.filter(account_id=OuterRef("pk"), kind=Survey.Kind.CSAT, occasion=CSAT_ONBOARDING))
        )
    )
    return [
        (pk, Survey.Kind.CSAT, CSAT_ONBOARDING, None, CSAT_ROLES)
        for pk in accounts.values_list("pk", flat=True).order_by("pk")
    ]


def support_occasion(today: date) -> str:
    return f"{CSAT_SUPPORT}:{today:%Y-%m}"


def _due_support_csat(*, today: date) -> list[Due]:
    """Accounts whose support load (open cases + 2 x escalations, the health score's support input)
    reached their program's threshold on a usage snapshot of this calendar month: one CSAT that month."""
    by_threshold: dict[int, list[int | None]] = {}
    for program_id, survey_settings in _settings_by_program().items():
        if survey_settings.csat_support_load:
            by_threshold.setdefault(survey_settings.csat_support_load, []).append(program_id)
    occasion = support_occasion(today)
    rows: list[Due] = []
    for threshold, programs in sorted(by_threshold.items()):
        heavy = (
            UsageSnapshot.objects.filter(account_id=OuterRef("pk"), date__gte=today.replace(day=1), date__lte=today)
            .alias(load=F("open_support_cases") + 2 * F("escalations"))
            .filter(load__gte=threshold)
        )
        accounts = (
            Account.objects.active()
            .filter(_program_q(programs))
            .filter(Exists(heavy))
            .exclude(Exists(Survey.objects.filter(account_id=OuterRef("pk"), kind=Survey.Kind.CSAT, occasion=occasion)))
        )
        rows += [
            (pk, Survey.Kind.CSAT, occasion, None, CSAT_ROLES)
            for pk in accounts.values_list("pk", flat=True).order_by("pk")
        ]
    return rows


def _due_exit(*, today: date, renewal_ids: list[int] | None = None) -> list[Due]:
    programs = [pid for pid, s in _settings_by_program().items() if s.exit_when_lost]
    if not programs:
        return []
    lost = Renewal.objects.filter(
        _program_q(programs, prefix="contract__"),
        stage=Renewal.Stage.LOST,
        closed_on__gte=today - timedelta(days=EXIT_WITHIN_DAYS),
    ).exclude(exit_surveys__isnull=False)
    if renewal_ids is not None:
        lost = lost.filter(pk__in=renewal_ids)
    pairs = lost.values_list("pk", "contract__account_id").order_by("pk")
    return [(account_id, Survey.Kind.EXIT, f"exit:{pk}", pk, EXIT_ROLES) for pk, account_id in pairs]


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
        (Survey.Kind.CSAT, _due_csat(today=today) + _due_support_csat(today=today)),
        (Survey.Kind.EXIT, _due_exit(today=today)),
    ):
        counts[kind], invites = _plan(rows, today=today, now=now)
        invite_ids += invites
    published = invite_ids[:ENQUEUE_LIMIT] if publish else []
    if published:
        publish_after_commit(published, now=now)
    if any(counts.values()):
        owners = set(Survey.objects.filter(pk__gt=last).values_list("account__owner_id", flat=True).distinct())
        transaction.on_commit(lambda: freshness.bump_changed(owners))
    return {"surveys": counts, "invites": len(invite_ids), "published": len(published)}


@transaction.atomic
def plan_exit_surveys(*, renewal_ids: list[int], today: date, now: datetime) -> list[int]:
    """The exit surveys of lost renewals (on the stage-change signals); the daily job catches up misses."""
    _, invite_ids = _plan(_due_exit(today=today, renewal_ids=renewal_ids), today=today, now=now)
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


def receive_lost_renewals(*, renewal_ids: list[int], now: datetime) -> None:
    """After commit of renewals marked lost (or lapsed): their exit surveys. Never raises (the job catches up)."""
    try:
        plan_exit_surveys(renewal_ids=renewal_ids, today=timezone.localtime(now).date(), now=now)
    except (IntegrityError, ValidationError):
        log.exception("exit surveys for renewals %s not planned; the daily job retries", renewal_ids[:20])
