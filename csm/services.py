from collections.abc import Callable
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import freshness
from .models import JobRun


def run_job_once(*, job: str, day: date, work: Callable[[], dict]) -> JobRun | None:
    """Run ``work`` for (job, day) unless it already ran or is running; record the outcome.

    The unique (job, day) row is the lock: two beats or a repeated tick insert it once,
    and the loser returns None without doing the work.
    """
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=job, day=day)
    except IntegrityError:
        claimed = JobRun.objects.filter(job=job, day=day, status=JobRun.Status.FAILED).update(
            status=JobRun.Status.RUNNING, started_at=timezone.now()
        )
        if not claimed:
            return None
        run = JobRun.objects.get(job=job, day=day)
    try:
        detail = work()
    except Exception as exc:
        freshness.bump()  # a failed run may have written part of its work
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.FAILED, finished_at=timezone.now(), detail={"error": repr(exc)[:500]}
        )
        raise
    JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.DONE, finished_at=timezone.now(), detail=detail or {})
    freshness.bump()
    run.refresh_from_db()
    return run
