from celery import shared_task
from django.db import connection
from django.utils import timezone


@shared_task
def heartbeat() -> dict:
    """Prove the worker runs and reaches the database; used by tests and the beat schedule."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"ok": one == 1, "at": timezone.now().isoformat(), "db": connection.vendor}
