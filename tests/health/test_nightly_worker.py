"""The beat task, run by a real Celery worker against the test database."""

import pytest
from django.utils import timezone

from accounts.models import HealthScore
from health import tasks
from tests.factories import AccountFactory

from .conftest import give_usage


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_nightly_recalculation(celery_worker, alice, program) -> None:
    account = AccountFactory(owner=alice, program=program)
    give_usage(account, day=timezone.localdate())
    days = tasks.recalculate_health.delay().get(timeout=60)
    assert days == [timezone.localdate().isoformat()]
    assert HealthScore.objects.get(account=account).score > 0
