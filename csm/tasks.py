from celery import shared_task
from django.db import connection
from django.utils import timezone

from . import operations, webhooks


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
