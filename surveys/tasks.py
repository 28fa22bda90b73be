from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import services


@shared_task
def plan_due_surveys() -> dict | None:
    """Daily (the beat ticks hourly): the first tick of a day plans; later ticks find the JobRun."""
    today, now = timezone.localdate(), timezone.now()
    run = run_job_once(job="surveys.plan_due", day=today, work=lambda: services.plan_due_surveys(today=today, now=now))
    return run.detail if run else None


@shared_task(acks_late=True, ignore_result=True)
def send_survey_invite(invite_id: int) -> str:
    return services.send_survey_invite(invite_id=invite_id, now=timezone.now())


@shared_task
def sweep_survey_invites() -> dict:
    return services.sweep_survey_invites(now=timezone.now())
