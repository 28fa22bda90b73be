"""Sending renewal notices: claim before sending, retry or pause on mail-server trouble, sweep
what went missing, and resolve notices that need a person.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
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


def _still_eligible(notice: RenewalNotice, *, eligible: set[int]) -> str:
    """Why the notice must not go out any more, or '' when it still should.

    ``eligible``: the ids of the batch's contacts that still receive renewal notices (read in one
    statement for the batch, ``Batch``)."""
    if notice.contact_id not in eligible:
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
    # The contract and account come with it: the receivers of the stage change read them (webhooks).
    renewal = (
        Renewal.objects.select_for_update(of=("self",)).select_related("contract__account").get(pk=notice.renewal_id)
    )
    if renewal.stage == Renewal.Stage.UPCOMING:
        renewal.stage = Renewal.Stage.NOTIFIED
        renewal._change_reason = "renewal notice sent"  # type: ignore[attr-defined]  # read by simple_history
        renewal.save(update_fields=["stage", "updated_at"])
        notify_stage_changed(renewal, Renewal.Stage.UPCOMING, by)
    if RenewalNotice.renewal.is_cached(notice):
        notice.renewal.stage = renewal.stage  # the batch's other notices of this renewal: one statement each


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
    outcomes = send_renewal_notices(notice_ids=[notice_id], now=now)
    return next(outcome for outcome in outcomes if outcome != "connections")


def send_renewal_notices(*, notice_ids: list[int], now: datetime) -> dict[str, int]:
    """Send a batch of notices over one mail connection; return how many had each outcome.

    Set-based around the sends: the batch is claimed in one statement (``_claim``: ``pending``
    to ``sending``, so a duplicate message or another worker claims none of them) and what
    rendering and the checks need is read in a few (``Batch``). Each notice is then handed over
    (``handed_over_at``, committed) just before its body goes to the server and recorded just
    after, so a worker killed mid-batch leaves the one it was sending in a state that says how far
    it got and the claimed ones it had not reached ``sending`` without ``handed_over_at``: nothing
    of them reached the server, and the sweeper puts them back to ``pending`` once stale.
    A connection that breaks mid-batch costs the message on it its attempt (it waits and retries,
    or a person reviews it if the body had gone out); the next message opens a new connection.
    A server that cannot be reached puts every notice of the rest of the batch back to wait, one
    connection attempt for the batch, not one per notice. Once sending pauses (the relay refused
    us), the rest of the batch is given back unclaimed and waits for the resume.
    """
    if operations.is_open(PAUSED):
        _wait_for_resume(notice_ids)
        return {"connections": 0, "paused": len(notice_ids)}
    claimed = set(_claim(notice_ids, now=now))
    outcomes: dict[str, int] = {}
    if len(claimed) < len(notice_ids):
        outcomes["not claimed"] = len(notice_ids) - len(claimed)
    batch = Batch.load(sorted(claimed), now=now)
    rest = [batch.notices[pk] for pk in dict.fromkeys(notice_ids) if pk in claimed]
    owners: set[int] = set()
    paused: list[RenewalNotice] = []
    with emails.Session() as session:
        try:
            while rest:
                notice = rest.pop(0)
                outcome = _send_claimed(notice, session=session, now=now, batch=batch)
                # Whatever the outcome, the notice's status changed: its owners' pages show it.
                owners.update({notice.contract.account.owner_id, notice.renewal.owner_id} - {None})  # type: ignore[arg-type]  # None was taken out
                if outcome == "sent" and not outcomes.get("sent"):
                    _mail_is_flowing(now)  # once per batch: an alert opened later in it stays open
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "paused":  # the relay refused us: the rest waits for the resume
                    paused, rest = rest, []
        finally:
            # An error mid-batch (not a kill): what it had not reached goes back at once.
            _unclaim(rest, now=now)
        outcomes["connections"] = session.connections
    if paused:
        _unclaim(paused, now=now)
        outcomes["paused"] = outcomes.get("paused", 0) + len(paused)
    if owners:
        freshness.bump(owners)
    return outcomes


def _claim(notice_ids: list[int], *, now: datetime) -> list[int]:
    """``pending`` to ``sending`` for the batch in one ``UPDATE … RETURNING id``: the ids claimed.

    None of those another worker has, that are done already, or that wait for their send window
    (renewals/timing.py); each claimed one counts an attempt.
    """
    ids = sorted(set(notice_ids))
    if not ids:
        return []
    stamp = connection.ops.adapt_datetimefield_value  # raw SQL: the backend's own datetime form
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE renewals_renewalnotice
            SET status = %s, claimed_at = %s, handed_over_at = NULL, attempts = attempts + 1, updated_at = %s
            WHERE id IN ({", ".join(["%s"] * len(ids))}) AND status = %s
              AND (not_before IS NULL OR not_before <= %s)
            RETURNING id
            """,  # noqa: S608 - only placeholders are interpolated.
            [
                RenewalNotice.Status.SENDING,
                stamp(now),
                stamp(now),
                *ids,
                RenewalNotice.Status.PENDING,
                stamp(now),
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def _unclaim(notices: list[RenewalNotice], *, now: datetime) -> None:
    """Claimed notices the batch did not try: back to ``pending``, unpublished (the sweeper
    publishes them again), their attempt not counted."""
    if notices:
        RenewalNotice.objects.filter(
            pk__in=[notice.pk for notice in notices],
            status=RenewalNotice.Status.SENDING,
            claimed_at=now,  # this batch's claim, not a later one after a sweep
            handed_over_at__isnull=True,
        ).update(
            status=RenewalNotice.Status.PENDING,
            claimed_at=None,
            enqueued_at=None,
            attempts=F("attempts") - 1,
            updated_at=now,
        )


def _wait_for_resume(notice_ids: list[int]) -> None:
    """Sending is paused: the notices stay pending, unpublished; the sweeper publishes them once a
    probe finds the relay accepting us again."""
    RenewalNotice.objects.filter(pk__in=notice_ids, status=RenewalNotice.Status.PENDING).update(enqueued_at=None)


def feed_after_batch(*, now: datetime) -> int:
    """A finished batch tops the queue up when it has drained to half its target (publishing.py)."""
    return feed_send_queue(now=now, stale=now - STUCK_AFTER, low_water=True)


@dataclass
class Batch:
    """What sending a claimed batch needs, read in a fixed number of statements.

    ``notices``: the claimed rows with their contract, account, owner, program, renewal (one
    object per renewal, so the first sent notice's stage change is seen by the others) and
    contact; ``eligible``: the ids of their contacts who still receive renewal notices;
    ``sent_cycles``: (contract id, cycle) of the sent notices of the follow-ups' contracts, kept
    up to date as the batch sends (a follow-up after a sent first notice says "A reminder").
    """

    notices: dict[int, RenewalNotice]
    eligible: set[int]
    sent_cycles: set[tuple[int, str]]

    @classmethod
    def load(cls, notice_ids: list[int], *, now: datetime) -> "Batch":
        if not notice_ids:
            return cls({}, set(), set())
        notices = RenewalNotice.objects.for_sending().in_bulk(notice_ids)
        renewals: dict[int, Renewal] = {}
        for notice in notices.values():
            notice.renewal = renewals.setdefault(notice.renewal_id, notice.renewal)
        contacts = {notice.contact_id for notice in notices.values()}
        today = timezone.localtime(now).date()
        eligible = set(
            Contact.objects.filter(pk__in=contacts).renewal_recipients(today=today).values_list("pk", flat=True)
        )
        follow_ups = {notice.contract_id for notice in notices.values() if notice.cycle != RenewalNotice.FIRST}
        sent_cycles = set(
            RenewalNotice.objects.filter(contract_id__in=follow_ups)
            .delivered()
            .values_list("contract_id", "cycle")
            .distinct()
            if follow_ups
            else []
        )
        return cls(notices, eligible, sent_cycles)

    def is_follow_up(self, notice: RenewalNotice) -> bool:
        """A follow-up cycle after another cycle of the contract went out (emails.notice_context)."""
        return notice.cycle != RenewalNotice.FIRST and any(
            contract == notice.contract_id and cycle != notice.cycle for contract, cycle in self.sent_cycles
        )


def _send_claimed(notice: RenewalNotice, *, session: "emails.Session", now: datetime, batch: Batch) -> str:
    """Send a claimed notice and record the outcome; return what happened.

    Not one transaction on purpose: each step commits on its own so a crash leaves the row
    in a state that says how far it got (``sending`` without ``handed_over_at``: nothing
    reached the server; with it: unknown, a person reviews).
    """
    notice_id = notice.pk
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
    why_not = _still_eligible(notice, eligible=batch.eligible) or _follow_current_address(notice, now=now)
    if why_not:
        RenewalNotice.objects.filter(pk=notice_id).update(
            status=RenewalNotice.Status.SKIPPED, last_error=why_not, updated_at=now
        )
        return "skipped"

    def hand_over() -> None:
        RenewalNotice.objects.filter(pk=notice_id).update(handed_over_at=now)

    try:
        message = emails.build_message(
            notice, sources=session.sources_for(notice.contract.program_id), follow_up=batch.is_follow_up(notice)
        )
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
    batch.sent_cycles.add((notice.contract_id, notice.cycle))
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
