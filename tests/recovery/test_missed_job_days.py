"""A day without a finished planner run is listed for administrators, not skipped silently."""

from datetime import date, datetime, timedelta

import pytest

from csm import operations
from csm.models import JobRun
from tests.renewals.conftest import at

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


def test_a_day_whose_run_never_finished_is_listed() -> None:
    for n in range(5, 0, -1):
        JobRun.objects.create(job="renewals.plan_notices", day=TODAY - timedelta(days=n), status=JobRun.Status.DONE)
    JobRun.objects.filter(day=TODAY - timedelta(days=2)).update(status=JobRun.Status.RUNNING)  # killed
    JobRun.objects.create(job="renewals.plan_notices", day=TODAY, status=JobRun.Status.DONE)
    now = at(TODAY, 9)
    state = next(s for s in operations.job_states(today=TODAY, now=now) if s.job == "renewals.plan_notices")
    assert state.missed == [TODAY - timedelta(days=2)]
    assert state.last.day == TODAY


def test_today_counts_as_missed_only_once_it_is_late() -> None:
    JobRun.objects.create(job="renewals.plan_notices", day=TODAY - timedelta(days=1), status=JobRun.Status.DONE)
    early = at(TODAY, 3)
    late = at(TODAY, 9)

    def missed(now: datetime) -> list[date]:
        return next(s for s in operations.job_states(today=TODAY, now=now) if s.job == "renewals.plan_notices").missed

    assert missed(early) == []
    assert missed(late) == [TODAY]
