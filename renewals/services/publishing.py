"""Publishing renewal notices to the workers: batch tasks of notice ids, fed by queue depth.

A notice is published as one id in a ``send_renewal_notices`` batch task (NOTICE_SEND_BATCH ids,
sent over one mail connection, sending.py). Rows are marked ``enqueued_at`` in the caller's
transaction and published after it commits; a publish that fails takes the mark back from the
rows it did not publish, so the next sweep finds them.

How much is published is set by the broker queue, not by a fixed count per sweep:
``feed_send_queue`` tops the queue up to NOTICE_SEND_QUEUE_TARGET batch messages. The sweeper
calls it every two minutes and every finished batch calls it again, so the workers never wait
for the next sweep and a faster pool of workers is fed faster.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from csm import operations

from ..models import RenewalNotice

PAUSED = "smtp:paused"
OUTAGE = "smtp:outage"
MARK_CHUNK = 2000  # ids per UPDATE: inside SQLite's parameter limit


def batches(notice_ids: list[int]) -> list[list[int]]:
    size = settings.NOTICE_SEND_BATCH
    return [notice_ids[start : start + size] for start in range(0, len(notice_ids), size)]


def publish_after_commit(notice_ids: list[int], *, now: datetime) -> None:
    """Mark the rows enqueued now; after commit, publish them in batch tasks.

    The first failed publish stops the loop (the broker is away) and the rows not published lose
    their mark, so the next sweep (minutes, not STUCK_AFTER) publishes them.
    """
    from .. import tasks

    for start in range(0, len(notice_ids), MARK_CHUNK):
        RenewalNotice.objects.filter(
            pk__in=notice_ids[start : start + MARK_CHUNK], status=RenewalNotice.Status.PENDING
        ).update(enqueued_at=now)

    def publish() -> None:
        unpublished = list(notice_ids)
        try:
            for batch in batches(notice_ids):
                tasks.send_renewal_notices.delay(batch)
                del unpublished[: len(batch)]
        finally:
            for start in range(0, len(unpublished), MARK_CHUNK):
                # Only the mark this call wrote: a row a worker took since keeps what it wrote.
                RenewalNotice.objects.filter(
                    pk__in=unpublished[start : start + MARK_CHUNK],
                    status=RenewalNotice.Status.PENDING,
                    enqueued_at=now,
                ).update(enqueued_at=None)

    # robust: a broker that is down must not fail the caller; the rows wait and the sweeper
    # publishes them later.
    transaction.on_commit(publish, robust=True)


def due(*, now: datetime, stale: datetime) -> QuerySet[RenewalNotice]:
    """Pending notices to publish: never published (or published before ``stale``), and due now."""
    return (
        RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
    )


@transaction.atomic
def feed_send_queue(*, now: datetime, stale: datetime, low_water: bool = False) -> int:
    """Top the broker queue up to NOTICE_SEND_QUEUE_TARGET batches of due notices; return how many
    notices are published (after commit).

    ``low_water`` (a finished batch asking): only when the queue has drained to half the target,
    so a busy pool reads the queue depth once per batch and selects rows once per several.
    Concurrent feeders take different rows (``SKIP LOCKED`` on PostgreSQL; SQLite has one writer).
    Nothing is published while sending is paused, or when the broker cannot be reached.
    """
    if operations.is_open(PAUSED):
        return 0
    target = settings.NOTICE_SEND_QUEUE_TARGET
    waiting = operations.queue_depth()
    if waiting is None or waiting >= target or (low_water and waiting > target // 2):
        return 0
    limit = (target - waiting) * settings.NOTICE_SEND_BATCH
    ids = list(
        due(now=now, stale=stale)
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        publish_after_commit(ids, now=now)
    return len(ids)
