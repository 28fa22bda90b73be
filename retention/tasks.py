from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import services


@shared_task
def prune_old_rows() -> dict | None:
    """Daily (the beat ticks hourly): the first tick of a day prunes; later ticks find the JobRun."""
    today, now = timezone.localdate(), timezone.now()
    run = run_job_once(job="retention.prune", day=today, work=lambda: services.prune(today=today, now=now))
    return run.detail if run else None
