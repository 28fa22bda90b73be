"""Sending renewal notices: claim before sending, retry or pause on mail-server trouble, sweep
what went missing, and resolve notices that need a person.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Contact
from csm import freshness, operations

from .. import delivery, emails, signals, timing
from ..models import Contract, Renewal, RenewalNotice
from .contracts import notify_stage_changed
from .planning import address_taken
from .publishing import OUTAGE, PAUSED, feed_send_queue

# A send that has not finished this long after its claim was cut short (worker killed).
# Retries back off at most 10 minutes, so a pending row older than this lost its message.
STUCK_AFTER = timedelta(minutes=15)


def _still_eligible(notice: RenewalNotice, *, today: date) -> str:
    """Why the notice must not go out any more, or '' when it still should."""
    eligible = Contact.objects.filter(pk=notice.contact_id).renewal_recipients(today=today).exists()
    if not eligible:
        return "contact left, opted out or lost the renewal role before sending"
    if notice.contract.status != Contract.Status.ACTIVE:
        return "contract no longer active"
    stages = Renewal.OPEN_STAGES if notice.cycle == RenewalNotice.FIRST else Renewal.FOLLOW_UP_STAGES
    if notice.renewal.stage not in stages:
        return f"renewal is {notice.renewal.get_stage_display().lower()}"
    return ""


def _follow_current_address(notice: RenewalNotice, *, now: datetime) -> str:
    """Send to the contact's address of now, not of planning time (a corrected bounce).

    Returns why not to send: the corrected address already has this cycle's notice.
    """
    current = notice.contact.email.strip().lower()
    if not current or current == notice.email:
        return ""
    if address_taken(notice, current):
        return f"{current} already has this notice"
    RenewalNotice.objects.filter(pk=notice.pk).update(email=current, updated_at=now)
    notice.email = current
    return ""


def _tell_csm_about_failure(notice: RenewalNotice, *, error: str, today: date, address_bad: bool = False) -> None:
    # Inside the transaction that marks the notice failed (playbooks opens the CSM's task in it);
    # after commit, the event for playbook rules. ``address_bad``: the recipient's address was
    # refused for good, and delivery.mark_address_bad asks for a working one (one task, not two).
    signals.notice_marked_failed.send(
        sender=RenewalNotice, notice=notice, error=error, today=today, address_bad=address_bad
    )
    transaction.on_commit(lambda: signals.notice_failed.send(sender=RenewalNotice, notice=notice, error=error))


@transaction.atomic
def _fail(notice: RenewalNotice, *, status: str, error: str, now: datetime, address_bad: bool = False) -> None:
    RenewalNotice.objects.filter(pk=notice.pk).update(status=status, last_error=error[:500], updated_at=now)
    notice.status = status
    notice.last_error = error[:500]
    _tell_csm_about_failure(notice, error=error, today=timezone.localtime(now).date(), address_bad=address_bad)


def _mark_sent(notice: RenewalNotice, *, now: datetime, by: User | None = None, message_id: str = "") -> None:
    """The notice is sent (with the id the provider quotes, delivery.message_id_of); its renewal's
    first sent notice moves it from upcoming to notified, in the same transaction."""
    sent = {
        "status": RenewalNotice.Status.SENT,
        "sent_at": now,
        "last_error": "",
        "next_attempt_at": None,
        "failing_since": None,
        "updated_at": now,
        **({"message_id": message_id[:200]} if message_id else {}),
    }
    if RenewalNotice.renewal.is_cached(notice) and notice.renewal.stage != Renewal.Stage.UPCOMING:
        # Loaded with the claim and notified already (a stage never goes back to upcoming): one statement.
        RenewalNotice.objects.filter(pk=notice.pk).update(**sent)
        return
    _mark_sent_and_notified(notice, sent=sent, now=now, by=by)


@transaction.atomic
def _mark_sent_and_notified(notice: RenewalNotice, *, sent: dict, now: datetime, by: User | None) -> None:
    RenewalNotice.objects.filter(pk=notice.pk).update(**sent)
    renewal = Renewal.objects.select_for_update().get(pk=notice.renewal_id)
    if renewal.stage == Renewal.Stage.UPCOMING:
        renewal.stage = Renewal.Stage.NOTIFIED
        renewal._change_reason = "renewal notice sent"  # type: ignore[attr-defined]  # read by simple_history
        renewal.save(update_fields=["stage", "updated_at"])
        notify_stage_changed(renewal, Renewal.Stage.UPCOMING, by)


def _retry_delay(attempts: int) -> timedelta:
    base = settings.NOTICE_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTICE_RETRY_MAX_SECONDS))


def _wait_for_server(notice: RenewalNotice, *, error: str, now: datetime, alert: bool = True) -> str:
    """The server is away (4xx, no connection): keep the notice pending with a later attempt.

    Mail servers retry for days; a notice fails only after NOTICE_MAX_DELAY_HOURS of this.
    One alert for an administrator when it lasts longer than NOTICE_OUTAGE_ALERT_MINUTES,
    not a task per recipient.
    """
    since = notice.failing_since or now
    if now - since >= timedelta(hours=settings.NOTICE_MAX_DELAY_HOURS):
        _fail(
            notice,
            status=RenewalNotice.Status.FAILED,
            error=f"mail server away since {since:%Y-%m-%d %H:%M}: {error}",
            now=now,
        )
        return "failed"
    RenewalNotice.objects.filter(pk=notice.pk, status=RenewalNotice.Status.SENDING).update(
        status=RenewalNotice.Status.PENDING,
        claimed_at=None,
        handed_over_at=None,
        enqueued_at=None,
        failing_since=since,
        next_attempt_at=now + _retry_delay(notice.attempts),
        last_error=error[:500],
        updated_at=now,
    )
    if alert and now - since >= timedelta(minutes=settings.NOTICE_OUTAGE_ALERT_MINUTES):
        operations.open_alert(
            key=OUTAGE,
            title="The mail server is not accepting renewal notices; they are delayed, not failed",
            detail=f"Since {since:%Y-%m-%d %H:%M}. Last error: {error[:300]}",
            now=now,
        )
    return "delayed"


def _pause_sending(notice: RenewalNotice, *, error: str, now: datetime) -> str:
    """The relay refused us, not the recipient: the notice waits, sending pauses, admins are told once."""
    RenewalNotice.objects.filter(pk=notice.pk, status=RenewalNotice.Status.SENDING).update(
        status=RenewalNotice.Status.PENDING,
        claimed_at=None,
        handed_over_at=None,
        enqueued_at=None,
        attempts=F("attempts") - 1,  # not this notice's attempt: none was made for it
        last_error=f"sending paused: {error}"[:500],
        updated_at=now,
    )
    operations.open_alert(
        key=PAUSED,
        title="Sending is paused: the mail relay refused the sender or the session",
        detail=f"{error[:400]}. Notices wait; sending resumes once the relay accepts the sender again.",
        now=now,
    )
    return "paused"


def _mail_is_flowing(now: datetime) -> None:
    operations.resolve_alert(key=OUTAGE, now=now)
    operations.resolve_alert(key=PAUSED, now=now)


def probe_paused_sending(*, now: datetime) -> bool:
    """While sending is paused, ask the relay whether it takes our sender again; True: resumed."""
    if not operations.is_open(PAUSED):
        return True
    try:
        emails.probe()
    except (emails.ServerRefusedError, emails.TransientSendError):
        return False
    operations.resolve_alert(key=PAUSED, now=now)
    return True


def send_renewal_notice(*, notice_id: int, now: datetime) -> str:
    """Claim one notice, send it over its own connection, record the outcome; return what happened."""
    if operations.is_open(PAUSED):
        _wait_for_resume([notice_id])
        return "paused"
    with emails.Session() as session:
        outcome = _send_one(notice_id, session=session, now=now, owners=set())
    if outcome == "sent":
        _mail_is_flowing(now)
    return outcome


def send_renewal_notices(*, notice_ids: list[int], now: datetime) -> dict[str, int]:
    """Send a batch of notices over one mail connection; return how many had each outcome.

    Each notice is claimed just before its own send and its outcome recorded just after, exactly
    as a single send is (``_send_one``), so a worker killed mid-batch leaves the notices it had
    not reached ``pending`` (the sweeper publishes them again) and the one it was sending in a
    state that says how far it got. A connection that breaks mid-batch costs the message on it
    its attempt (it waits and retries, or a person reviews it if the body had gone out); the next
    message opens a new connection. A server that cannot be reached puts every notice of the
    rest of the batch back to wait, one connection attempt for the batch, not one per notice.
    Once sending pauses (the relay refused us), the rest of the batch waits for the resume.
    """
    outcomes: dict[str, int] = {}
    owners: set[int] = set()
    rest = [] if operations.is_open(PAUSED) else list(notice_ids)
    paused = list(notice_ids) if not rest else []
    with emails.Session() as session:
        while rest:
            outcome = _send_one(rest.pop(0), session=session, now=now, owners=owners, bump=False)
            if outcome == "sent" and not outcomes.get("sent"):
                _mail_is_flowing(now)  # once per batch: an alert opened later in it stays open
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome == "paused":  # the relay refused us: the rest waits for the resume
                paused, rest = rest, []
        outcomes["connections"] = session.connections
    if paused:
        _wait_for_resume(paused)
        outcomes["paused"] = outcomes.get("paused", 0) + len(paused)
    if owners:
        freshness.bump(owners)
    return outcomes


def _wait_for_resume(notice_ids: list[int]) -> None:
    """Sending is paused: the notices stay pending, unpublished; the sweeper publishes them once a
    probe finds the relay accepting us again."""
    RenewalNotice.objects.filter(pk__in=notice_ids, status=RenewalNotice.Status.PENDING).update(enqueued_at=None)


def feed_after_batch(*, now: datetime) -> int:
    """A finished batch tops the queue up when it has drained to half its target (publishing.py)."""
    return feed_send_queue(now=now, stale=now - STUCK_AFTER, low_water=True)


def _send_one(notice_id: int, *, session: "emails.Session", now: datetime, owners: set[int], bump: bool = True) -> str:
    """Claim the notice, send it, record the outcome; return what happened.

    Not one transaction on purpose: each step commits on its own so a crash leaves the row
    in a state that says how far it got (``sending`` without ``handed_over_at``: nothing
    reached the server; with it: unknown, a person reviews). The ids of the notice's owners
    go into ``owners`` (their pages show it, csm/freshness.py): bumped here when ``bump``,
    else by the caller once for its batch.
    """
    # The claim: 0 rows when another worker has it, it is already done, or it waits for its
    # send window (renewals/timing.py). Then do nothing.
    waiting = Q(not_before__isnull=False, not_before__gt=now)
    claimed = (
        RenewalNotice.objects.filter(pk=notice_id, status=RenewalNotice.Status.PENDING)
        .exclude(waiting)
        .update(
            status=RenewalNotice.Status.SENDING,
            claimed_at=now,
            handed_over_at=None,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return "not claimed"
    notice = RenewalNotice.objects.select_related(
        "contract__account__owner", "contract__program", "renewal__owner", "contact"
    ).get(pk=notice_id)
    try:
        return _send_claimed(notice, session=session, now=now)
    finally:
        # Whatever the outcome, the notice's status changed: its owners' pages show it (csm/freshness.py).
        owners.update({notice.contract.account.owner_id, notice.renewal.owner_id} - {None})  # type: ignore[arg-type]  # None was taken out
        if bump:
            freshness.bump(owners)


def _send_claimed(notice: RenewalNotice, *, session: "emails.Session", now: datetime) -> str:
    notice_id = notice.pk
    today = timezone.localtime(now).date()
    opening = timing.opening_for(notice, now=now)
    if opening is not None:
        # Outside the send window (a retry after closing time, a window changed since planning):
        # back to pending, nothing sent, published again by the sweeper once it opens.
        RenewalNotice.objects.filter(pk=notice_id, status=RenewalNotice.Status.SENDING).update(
            status=RenewalNotice.Status.PENDING,
            claimed_at=None,
            attempts=F("attempts") - 1,
            not_before=opening,
            enqueued_at=None,
            updated_at=now,
        )
        return "waiting for the send window"
    why_not = _still_eligible(notice, today=today) or _follow_current_address(notice, now=now)
    if why_not:
        RenewalNotice.objects.filter(pk=notice_id).update(
            status=RenewalNotice.Status.SKIPPED, last_error=why_not, updated_at=now
        )
        return "skipped"

    def hand_over() -> None:
        RenewalNotice.objects.filter(pk=notice_id).update(handed_over_at=now)

    try:
        message = emails.build_message(notice, sources=session.sources_for(notice.contract.program_id))
        session.deliver(message, before_data=hand_over)
    except emails.PermanentSendError as exc:
        address_bad = delivery.refuses_recipient(str(exc))
        # One transaction: the failure and the bad address (with its one task) or neither.
        with transaction.atomic():
            _fail(notice, status=RenewalNotice.Status.FAILED, error=str(exc), now=now, address_bad=address_bad)
            if address_bad:
                delivery.mark_address_bad(notice, reason=f"SMTP: {exc}", now=now)
        return "failed"
    except emails.UnknownOutcomeError as exc:
        _fail(notice, status=RenewalNotice.Status.NEEDS_REVIEW, error=f"outcome unknown: {exc}", now=now)
        return "needs review"
    except emails.ServerRefusedError as exc:
        return _pause_sending(notice, error=str(exc), now=now)
    except emails.TransientSendError as exc:
        # Only a message that met the failure itself may alert: the rest of its batch was not tried.
        return _wait_for_server(notice, error=str(exc), now=now, alert=not isinstance(exc, emails.NotTriedError))
    _mark_sent(notice, now=now, message_id=delivery.message_id_of(message))
    return "sent"


@transaction.atomic
def sweep_renewal_notices(*, now: datetime) -> dict:
    """Recover what a lost message or a killed worker left behind; never send twice.

    - ``pending`` rows never published, or published long ago: publish again, as many as the
      queue takes (publishing.feed_send_queue; the claim makes a duplicate message harmless).
    - ``sending`` rows cut short before the body reached the server: back to ``pending``.
    - ``sending`` rows cut short after that: the server may have the email; a person decides.
    """
    stale = now - STUCK_AFTER
    stuck = RenewalNotice.objects.filter(status=RenewalNotice.Status.SENDING, claimed_at__lt=stale)
    # A sweep that only republishes changes nothing a page shows; one that resets or flags rows
    # changes their owners' books (csm/freshness.py).
    owners = {owner for pair in stuck.values_list("contract__account__owner_id", "renewal__owner_id") for owner in pair}
    reset = stuck.filter(handed_over_at__isnull=True).update(
        status=RenewalNotice.Status.PENDING,
        claimed_at=None,
        enqueued_at=None,
        last_error="worker stopped before sending; retried",
        updated_at=now,
    )
    unknown = list(stuck.filter(handed_over_at__isnull=False).select_related("contract__account", "renewal__owner"))
    for notice in unknown:
        _fail(notice, status=RenewalNotice.Status.NEEDS_REVIEW, error="worker stopped mid-send", now=now)

    if not probe_paused_sending(now=now):
        return {"republished": 0, "reset": reset, "needs_review": len(unknown), "paused": True}
    # Not a fixed count: the queue is topped up to its target depth (publishing.py).
    republished = feed_send_queue(now=now, stale=stale)
    if reset or unknown:
        transaction.on_commit(lambda: freshness.bump(owners - {None}))
    return {"republished": republished, "reset": reset, "needs_review": len(unknown)}


@transaction.atomic
def mark_notice_bounced(
    notice: RenewalNotice, *, error: str, now: datetime, address_bad: bool = False
) -> RenewalNotice:
    """A delivered notice bounced later (reported by the mail system): tell the CSM.

    ``address_bad`` when the bounce also marks the address bad (delivery.mark_address_bad):
    the CSM's task is then the one to find a working address, not a second "not delivered".
    """
    notice = RenewalNotice.objects.select_related("contract__account", "renewal__owner").get(pk=notice.pk)
    _fail(notice, status=RenewalNotice.Status.BOUNCED, error=error, now=now, address_bad=address_bad)
    return notice


class Resolution:
    RESEND = "resend"
    CONFIRM_SENT = "confirm_sent"
    DISMISS = "dismiss"
    CHOICES = ((RESEND, "Send again"), (CONFIRM_SENT, "It was delivered"), (DISMISS, "Do not send"))
    # For an unclear send the safe answer comes first (the default), and sending again says
    # what it risks.
    UNCLEAR_CHOICES = (
        (CONFIRM_SENT, "It was delivered"),
        (DISMISS, "Do not send"),
        (RESEND, "Send again (may send a second copy)"),
    )


@transaction.atomic
def resolve_notice(notice: RenewalNotice, *, action: str, by: User | None, now: datetime) -> RenewalNotice:
    """A person decides about a notice that failed, bounced or has an unknown outcome.

    A resend goes back to ``pending`` unpublished: the sweeper publishes it, so a web
    request never talks to the broker.
    """
    notice = RenewalNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status not in RenewalNotice.NEEDS_A_PERSON:
        raise ValidationError("Only a failed, bounced or unclear notice can be resolved.")
    if action == Resolution.RESEND:
        notice.status, notice.enqueued_at, notice.claimed_at = RenewalNotice.Status.PENDING, None, None
        notice.handed_over_at = None
        # To the contact's address of now: a bounce is usually fixed by correcting it.
        current = notice.contact.email.strip().lower()
        if current and current != notice.email and not address_taken(notice, current):
            notice.email = current
    elif action == Resolution.CONFIRM_SENT:
        _mark_sent(notice, now=now, by=by)
        notice.refresh_from_db()
        return notice
    elif action == Resolution.DISMISS:
        notice.status = RenewalNotice.Status.SKIPPED
    else:
        raise ValidationError({"action": "Unknown action."})
    notice.last_error = f"{notice.last_error} · resolved by {by}: {action}"[-500:]
    notice.save()
    return notice


def resend_failed_notices(notices: QuerySet, *, by: User | None, now: datetime) -> int:
    """Send again every failed or bounced notice among ``notices``, each as its own resolution.

    Unclear (needs review) notices are left out: they may have been delivered, so each needs
    a person's look (resolve_notice).
    """
    ids = list(notices.filter(status__in=RenewalNotice.UNDELIVERED).values_list("pk", flat=True))
    for notice in RenewalNotice.objects.filter(pk__in=ids).select_related("contact"):
        resolve_notice(notice, action=Resolution.RESEND, by=by, now=now)
    return len(ids)
