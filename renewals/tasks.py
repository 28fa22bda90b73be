from celery import shared_task
from django.utils import timezone

from csm.services import run_job_once

from . import lifecycle, services


@shared_task
def plan_renewal_notices() -> dict | None:
    """Daily (the beat ticks hourly): the first tick of a day plans; later ticks find the JobRun."""
    today, now = timezone.localdate(), timezone.now()
    run = run_job_once(
        job="renewals.plan_notices", day=today, work=lambda: services.plan_renewal_notices(today=today, now=now)
    )
    return run.detail if run else None


# No Celery retries: a send that must wait (server away, sending paused) goes back to pending
# with its next attempt time, and the sweeper publishes it then (renewals.services).
# ignore_result: nobody reads a send's result, and publishing it must not wait on the result backend.
@shared_task(acks_late=True, ignore_result=True)
def send_renewal_notices(notice_ids: list[int]) -> dict[str, int]:
    """A batch over one mail connection; then the queue is topped up if it has drained."""
    outcomes = services.send_renewal_notices(notice_ids=notice_ids, now=timezone.now())
    services.feed_after_batch(now=timezone.now())
    return outcomes


# One notice per message: what was published before batches; kept so queued messages still run.
@shared_task(acks_late=True, ignore_result=True)
def send_renewal_notice(notice_id: int) -> str:
    return services.send_renewal_notice(notice_id=notice_id, now=timezone.now())


@shared_task
def sweep_renewal_notices() -> dict:
    return services.sweep_renewal_notices(now=timezone.now())


@shared_task
def run_contract_lifecycle() -> dict | None:
    """Daily (the beat ticks hourly): contracts past their end are renewed, flagged overdue or lapse."""
    today = timezone.localdate()
    run = run_job_once(
        job="renewals.contract_lifecycle", day=today, work=lambda: lifecycle.run_contract_lifecycle(today=today)
    )
    return run.detail if run else None
