from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import calibration, nightly


@shared_task(acks_late=True)
def recalculate_health() -> list[str]:
    """Nightly: score every account for each day due as of today (catches up missed nights)."""
    return [day.isoformat() for day in nightly.recalculate_due(today=timezone.localdate())]


@shared_task
def take_calibration_snapshot() -> dict | None:
    """Daily (the beat ticks hourly): the calibration report's counts for everyone and each manager."""
    today = timezone.localdate()
    run = run_job_once(
        job="health.calibration_snapshot",
        day=today,
        work=lambda: calibration.take_snapshot(today=today, now=timezone.now()),
    )
    return run.detail if run else None
