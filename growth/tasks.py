from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import services


@shared_task
def raise_suggestions() -> dict | None:
    """Daily (the beat ticks hourly): each expansion signal raises its suggestion once."""
    today = timezone.localdate()
    run = run_job_once(job="growth.raise_suggestions", day=today, work=lambda: services.raise_suggestions(today=today))
    return run.detail if run else None


@shared_task
def record_checkpoints() -> dict | None:
    """Daily: csm's call at each renewal checkpoint passed, and a task asking the CSM for theirs."""
    today = timezone.localdate()
    run = run_job_once(job="growth.checkpoints", day=today, work=lambda: services.record_checkpoints(today=today))
    return run.detail if run else None
