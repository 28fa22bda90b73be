"""An admin's change to a periodic task survives a beat restart (csm/beat.py)."""

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from csm import beat
from csm.celery import app

pytestmark = pytest.mark.django_db


def test_migrate_seeds_every_default_task() -> None:
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {"renewals-plan-notices", "renewals-sweep-notices", "recalculate-health"} <= names
    plan = PeriodicTask.objects.get(name="renewals-plan-notices")
    assert (plan.task, plan.crontab.minute, plan.crontab.hour) == ("renewals.tasks.plan_renewal_notices", "5", "*")


def test_an_admin_edit_survives_a_beat_restart_and_a_new_sync() -> None:
    plan = PeriodicTask.objects.get(name="renewals-plan-notices")
    plan.crontab = CrontabSchedule.objects.create(minute="45", hour="6")
    plan.save()
    PeriodicTask.objects.filter(name="heartbeat").delete()

    # What `celery beat` does at start (DatabaseScheduler.update_from_dict): write each entry
    # of the configured schedule over its row.
    for name, entry in app.conf.beat_schedule.items():
        ModelEntry.from_entry(name, app=app, **entry)
    assert beat.sync_periodic_tasks() == ["heartbeat"]  # what the next migrate does

    plan.refresh_from_db()
    assert (plan.crontab.minute, plan.crontab.hour) == ("45", "6")
    assert PeriodicTask.objects.filter(name="heartbeat").exists()
