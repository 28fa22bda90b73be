import pytest
from django.conf import settings
from django.db import connection

from csm import tasks
from tests import celery_tasks

pytestmark = pytest.mark.worker


def test_a_task_round_trips_through_a_real_worker(celery_worker) -> None:
    result = tasks.heartbeat.delay()
    try:
        payload = result.get(timeout=60)
    except Exception:
        print(celery_worker.output())
        raise
    assert payload["ok"] is True
    # The worker reached the very database this test uses.
    assert payload["db"] == connection.vendor


def test_the_broker_is_the_one_configured(celery_worker) -> None:
    from csm.celery import app

    expected = "redis" if settings.REDIS_URL else "filesystem"
    assert app.connection_for_write().transport_cls == expected
    assert celery_tasks.add.delay(20, 22).get(timeout=60) == 42
