"""The Celery app. Tasks stay thin; they call one service each.

``Task.delay_on_commit`` (Celery 5.4+) enqueues only after the surrounding transaction
commits, so a worker never sees a row id that a rollback took back.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm.settings")

app = Celery("csm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
