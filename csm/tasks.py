from celery import shared_task
from django.db import connection
from django.utils import timezone

from . import operations


@shared_task(bind=True)
def heartbeat(self) -> dict:
    """Prove the worker runs and reaches the database; beat publishes it every minute, and the
    ``worker`` heartbeat row it writes is what /healthz and the operations page read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    now = timezone.now()
    operations.beat("worker", now=now, detail={"hostname": self.request.hostname or ""})
    return {"ok": one == 1, "at": now.isoformat(), "db": connection.vendor}
