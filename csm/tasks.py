from celery import shared_task
from django.db import connection
from django.utils import timezone

from . import webhooks


@shared_task
def heartbeat() -> dict:
    """Prove the worker runs and reaches the database; used by tests and the beat schedule."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"ok": one == 1, "at": timezone.now().isoformat(), "db": connection.vendor}


@shared_task
def add(x: int, y: int) -> int:
    return x + y


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id, now=timezone.now())


@shared_task
def sweep_webhooks() -> int:
    """Enqueue due outbox rows (new ones and retries); a lost broker message only delays a send."""
    due = webhooks.due_deliveries(now=timezone.now())
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)
