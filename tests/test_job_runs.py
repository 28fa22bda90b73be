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
