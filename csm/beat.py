"""Beat's scheduler: django-celery-beat's, plus a ``beat`` heartbeat row at most every 15 s.

The row says beat itself is ticking (the worker's heartbeat needs beat, broker and worker);
a database that is away must not stop beat, so a failed write is only logged.
"""

import logging
import time
from typing import Any

from django.db import DatabaseError, close_old_connections
from django.utils import timezone
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
