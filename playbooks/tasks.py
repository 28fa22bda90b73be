from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import services

# Band and score triggers read tonight's health scores: the job waits for the health run
# (hourly ticks retry) until this hour, then runs without it rather than skip a day.
WAIT_FOR_HEALTH_UNTIL_HOUR = 6


@shared_task(acks_late=True)
def evaluate_playbook_rules() -> dict | None:
    """Nightly, after the health run; hourly ticks catch up a missed night (once per day)."""
    now = timezone.localtime()
    today = now.date()
    if now.hour < WAIT_FOR_HEALTH_UNTIL_HOUR and not services.health_ran(day=today):
        return None
    run = run_job_once(job="playbook-rules", day=today, work=lambda: services.evaluate_playbook_rules(today=today))
    return run.detail if run else None
