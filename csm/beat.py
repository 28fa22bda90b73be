"""Beat: its schedule and its scheduler.

The beat schedule lives in the database, where admins edit it (django-celery-beat).

``settings.CSM_BEAT_DEFAULTS`` only seeds it: after each migrate, a job missing from
PeriodicTask is created with its default crontab, and a job that exists is left exactly as
an admin set it. ``CELERY_BEAT_SCHEDULE`` stays empty on purpose: DatabaseScheduler writes
that dict over the database rows every time beat starts, which undid admins' changes.

The scheduler is django-celery-beat's, plus a ``beat`` heartbeat row at most every 15 s.

The row says beat itself is ticking (the worker's heartbeat needs beat, broker and worker);
a database that is away must not stop beat, so a failed write is only logged.
"""

import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)
EVERY = 15.0


class HeartbeatScheduler(DatabaseScheduler):
    _last_heartbeat = 0.0

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        if time.monotonic() - self._last_heartbeat >= EVERY:
            from . import operations

            try:
                close_old_connections()
                operations.beat("beat", now=timezone.now())
                self._last_heartbeat = time.monotonic()
            except DatabaseError as exc:
                logger.warning("beat heartbeat not written: %r", exc)
        return min(interval, EVERY)


@transaction.atomic
def sync_periodic_tasks(schedule: dict | None = None) -> list[str]:
    """Create the default periodic tasks that do not exist yet; return their names."""
    created = []
    for name, entry in (settings.CSM_BEAT_DEFAULTS if schedule is None else schedule).items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue  # an admin's schedule, or the seeded one: never overwritten
        crontab = CrontabSchedule.from_schedule(entry["schedule"])
        if crontab.pk is None:
            crontab.save()
        PeriodicTask.objects.create(
            name=name,
            task=entry["task"],
            crontab=crontab,
            expire_seconds=entry.get("options", {}).get("expires"),
        )
        created.append(name)
    return created


def sync_after_migrate(sender: object, **kwargs: object) -> None:
    sync_periodic_tasks()
