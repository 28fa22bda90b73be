from celery import shared_task
from django.utils import timezone

from . import nightly


@shared_task(acks_late=True)
def recalculate_health() -> list[str]:
    """Nightly: score every account for each day due as of today (catches up missed nights)."""
    return [day.isoformat() for day in nightly.recalculate_due(today=timezone.localdate())]
