from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import freshness
from .models import JobRun


def max_duration(job: str) -> timedelta:
    """How long a run of ``job`` may take before a later tick takes it over (settings.JOB_MAX_DURATION)."""
    seconds = settings.JOB_MAX_DURATION.get(job, settings.JOB_MAX_DURATION["default"])
    return timedelta(seconds=seconds)


def run_job_once(*, job: str, day: date, work: Callable[[], dict]) -> JobRun | None:
    """Run ``work`` for (job, day) unless it already ran or is running; record the outcome.

    The unique (job, day) row is the lock: two beats or a repeated tick insert it once,
    and the loser returns None without doing the work. ``work`` replaces the page-cache stamps of
    the books it changed (``freshness.bump_changed``); a failed run replaces them all.
    """
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=job, day=day)
    except IntegrityError:
        # A failed run, or a "running" one older than the job can take (its worker was killed
        # and its transaction rolled back), is taken over; a live run is left alone.
        now = timezone.now()
        claimed = (
            JobRun.objects.filter(job=job, day=day)
            .filter(
                Q(status=JobRun.Status.FAILED) | Q(status=JobRun.Status.RUNNING, started_at__lt=now - max_duration(job))
            )
            .update(status=JobRun.Status.RUNNING, started_at=now, finished_at=None)
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
    run.refresh_from_db()
    return run
