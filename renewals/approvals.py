"""The approval queue: programs that review their renewal notices before they go
(``Program.notices_need_approval``). The planner puts each day's notices of such a program in
``awaiting_approval`` (renewals/timing.py); the CSM (own book) or a manager (the team) approves
them, edits the message of one (stored on the notice), or holds them. Approved notices are
pending again, wait for their send window if they are outside it, and are published after commit.
"""

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from csm import freshness, roles

from . import emails, timing
from .models import RenewalNotice, RenewalNoticeQuerySet
from .services import publish_after_commit

APPROVE, HOLD = "approve", "hold"
ACTIONS = {APPROVE: "approved", HOLD: "held"}


def queue_for(user: User) -> RenewalNoticeQuerySet:
    """The notices waiting for a decision that ``user`` may see: a CSM's book, a manager's team."""
    return (
        RenewalNotice.objects.visible_to(user)
        .filter(status__in=RenewalNotice.IN_REVIEW)
        .select_related("contract__account", "contract__program", "contact", "reviewed_by")
        .order_by("scheduled_on", "contract__account__name", "email", "pk")
    )


def _check_can_review(by: User) -> None:
    if not roles.can_write(by):
        raise PermissionDenied("Read-only users change nothing.")


def _owners(notice_ids: list[int]) -> set[int]:
    rows = RenewalNotice.objects.filter(pk__in=notice_ids)
    pairs = rows.values_list("contract__account__owner_id", "renewal__owner_id")
    return {owner for pair in pairs for owner in pair if owner is not None}


@transaction.atomic
def review_notices(*, notice_ids: list[int], action: str, by: User, now: datetime) -> int:
    """Approve or hold the queued notices among ``notice_ids`` that ``by`` may change.

    Approving makes them pending; those inside their send window are published after commit
    (the rest wait for it, then the sweeper publishes them). Returns how many changed.
    """
    _check_can_review(by)
    if action not in ACTIONS:
        raise ValidationError({"action": "Choose approve or hold."})
    if not notice_ids:
        raise ValidationError({"notices": "Select at least one notice."})
    rows = queue_for(by).filter(pk__in=notice_ids)
    if action == HOLD:
        rows = rows.filter(status=RenewalNotice.Status.AWAITING_APPROVAL)
    ids = list(rows.select_for_update(of=("self",)).values_list("pk", flat=True))
    if not ids:
        return 0
    status = RenewalNotice.Status.PENDING if action == APPROVE else RenewalNotice.Status.HELD
    RenewalNotice.objects.filter(pk__in=ids).update(
        status=status, reviewed_by=by, reviewed_at=now, enqueued_at=None, updated_at=now
    )
    if action == APPROVE:
        timing.delay_outside_window(ids, now=now)
        ready = list(
            RenewalNotice.objects.filter(pk__in=ids, status=RenewalNotice.Status.PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ready:
            publish_after_commit(ready, now=now)
    owners = _owners(ids)
    transaction.on_commit(lambda: freshness.bump(owners))
    return len(ids)


def message_of(notice: RenewalNotice) -> tuple[str, str]:
    """(subject, text) the notice will be sent with: the CSM's edit, else the template's."""
    subject, text, _ = emails.rendered(notice)
    return (notice.edited_subject or subject, notice.edited_text or text)


@transaction.atomic
def edit_notice_message(*, notice: RenewalNotice, subject: str, text: str, by: User, now: datetime) -> RenewalNotice:
    """Store the message the CSM wrote for this one notice (it is sent instead of the template's).

    Only while the notice waits for approval or is held; an empty text goes back to the template.
    """
    _check_can_review(by)
    found = queue_for(by).select_for_update(of=("self",)).filter(pk=notice.pk).first()
    if found is None:
        raise ValidationError("Only a notice waiting for approval or held can be edited.")
    notice = found
    subject, text = emails.one_line(subject or ""), (text or "").replace("\r\n", "\n").strip()
    errors = {}
    if text and not subject:
        errors["subject"] = "A message needs a subject."
    if len(text) > 20000:
        errors["text"] = "Keep the message under 20,000 characters."
    if errors:
        raise ValidationError(errors)
    notice.edited_subject, notice.edited_text = (subject, text) if text else ("", "")
    notice.reviewed_by, notice.reviewed_at = by, now
    notice.save(update_fields=["edited_subject", "edited_text", "reviewed_by", "reviewed_at", "updated_at"])
    return notice
