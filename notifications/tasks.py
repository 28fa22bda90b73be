from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True)
def send_daily_digests() -> dict:
    """Hourly from 07:00; the (user, day) claim makes every later tick of the day a no-op."""
    return services.send_daily_digests(today=timezone.localdate(), now=timezone.now())
