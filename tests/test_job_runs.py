from datetime import date

import pytest

from csm.models import JobRun
from csm.services import run_job_once

pytestmark = pytest.mark.django_db


def test_a_job_runs_once_per_day_however_often_it_is_called() -> None:
    calls = []

    def work() -> dict:
        calls.append(1)
        return {"n": len(calls)}

    first = run_job_once(job="nightly", day=date(2026, 3, 1), work=work)
    second = run_job_once(job="nightly", day=date(2026, 3, 1), work=work)
    assert first.status == JobRun.Status.DONE
    assert second is None
    assert calls == [1]


def test_a_failed_run_may_be_tried_again() -> None:
    def broken() -> dict:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run_job_once(job="nightly", day=date(2026, 3, 2), work=broken)
    run = run_job_once(job="nightly", day=date(2026, 3, 2), work=lambda: {"ok": True})
    assert run.status == JobRun.Status.DONE
    assert run.detail == {"ok": True}


def test_a_run_whose_worker_was_killed_is_taken_over_by_the_next_tick(settings) -> None:
    """The planner's transaction rolled back with the worker: the row stays ``running``."""
    from datetime import timedelta

    from django.utils import timezone

    run_job_once(job="nightly", day=date(2026, 3, 3), work=lambda: {"ok": True})
    JobRun.objects.filter(job="nightly").update(
        status=JobRun.Status.RUNNING, started_at=timezone.now() - timedelta(hours=2), finished_at=None
    )
    settings.JOB_MAX_DURATION = {"default": 3600}
    taken_over = run_job_once(job="nightly", day=date(2026, 3, 3), work=lambda: {"again": True})
    assert taken_over.status == JobRun.Status.DONE
    assert taken_over.detail == {"again": True}


def test_a_run_within_its_max_duration_is_left_alone(settings) -> None:
    settings.JOB_MAX_DURATION = {"default": 3600}
    JobRun.objects.create(job="nightly", day=date(2026, 3, 4))
    calls = []
    assert run_job_once(job="nightly", day=date(2026, 3, 4), work=lambda: calls.append(1) or {}) is None
    assert calls == []
