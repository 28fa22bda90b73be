"""The Celery app. Tasks stay thin; they call one service each.

``Task.delay_on_commit`` (Celery 5.4+) enqueues only after the surrounding transaction
commits, so a worker never sees a row id that a rollback took back.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm.settings")

app = Celery("csm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def _data_may_have_changed(**kwargs: Any) -> None:
    """Any task may have written: cached page fragments are computed afresh (csm/freshness.py)."""
    from csm import freshness

    freshness.bump()
