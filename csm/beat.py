"""The beat schedule lives in the database, where admins edit it (django-celery-beat).

``settings.CSM_BEAT_DEFAULTS`` only seeds it: after each migrate, a job missing from
PeriodicTask is created with its default crontab, and a job that exists is left exactly as
an admin set it. ``CELERY_BEAT_SCHEDULE`` stays empty on purpose: DatabaseScheduler writes
that dict over the database rows every time beat starts, which undid admins' changes.
"""

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask


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
        PeriodicTask.objects.create(name=name, task=entry["task"], crontab=crontab)
        created.append(name)
    return created


def sync_after_migrate(sender: object, **kwargs: object) -> None:
    sync_periodic_tasks()
