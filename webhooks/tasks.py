from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    return services.deliver(delivery_id, now=timezone.now())


@shared_task
def sweep_webhooks() -> int:
    """Enqueue due outbox rows (new ones and retries); a lost broker message only delays a send."""
    due = services.due_deliveries(now=timezone.now())
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)
