"""The nightly job evaluates the rules on a real Celery worker, once per day."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from csm.models import JobRun
from playbooks import tasks
from playbooks.models import PlaybookRule, Task
from tests.factories import OnboardingItemFactory


@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_opens_tasks_on_a_worker(celery_worker, acme, make_rule) -> None:
    make_rule(PlaybookRule.Trigger.ONBOARDING_OVERDUE)
    # The job waits for the night's health run before 06:00; say it finished.
    JobRun.objects.create(job="recalculate_health", day=timezone.localdate(), status=JobRun.Status.DONE)
    OnboardingItemFactory(account=acme, title="Access", due_on=timezone.localdate() - timedelta(days=4))
    tasks.evaluate_playbook_rules.delay()
    deadline = time.monotonic() + 60
    while not JobRun.objects.filter(job="playbook-rules", status="done").exists():
        assert time.monotonic() < deadline, celery_worker.output()[-3000:]
        time.sleep(0.5)
    assert Task.objects.filter(account=acme, source="playbook").count() == 1
    # The same day: the worker ran the job, which found the day's JobRun and opened nothing more.
    assert tasks.evaluate_playbook_rules.delay().get(timeout=60) is None
    assert Task.objects.count() == 1
