from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import services


@shared_task(acks_late=True)
def evaluate_playbook_rules() -> dict | None:
    """Nightly, after the health run; hourly ticks catch up a missed night (once per day)."""
    today = timezone.localdate()
    run = run_job_once(job="playbook-rules", day=today, work=lambda: services.evaluate_playbook_rules(today=today))
    return run.detail if run else None
