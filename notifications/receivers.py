"""Notifications from the apps below: a task assigned to someone else, a notice that failed.

Receivers must not raise (renewals/signals.py): a notification lost is logged, the write stands.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from playbooks.models import Task
from playbooks.signals import tasks_opened
from renewals.signals import notice_failed

from . import services

log = logging.getLogger(__name__)


@receiver(post_save, sender=Task)
def task_assigned(sender: type, instance: Task, created: bool, update_fields: frozenset | None, **kwargs) -> None:
    if created or (update_fields and "assignee" in update_fields):
        try:
            services.notify_task_assigned(instance, created=created)
        except Exception:
            log.exception("No notification for task %s", instance.pk)


@receiver(tasks_opened, dispatch_uid="notifications.tasks_opened")
def tasks_opened_notify(sender: type, tasks: list[Task], **kwargs) -> None:
    try:
        # A savepoint: a failure rolls back the notifications only, never the tasks.
        with transaction.atomic():
            services.notify_tasks_opened(tasks)
    except Exception:
        log.exception("No notifications for %d tasks opened", len(tasks))


@receiver(notice_failed)
def notice_failed_notifies(sender: type, notice: object, error: str, **kwargs) -> None:
    try:
        services.notify_notice_failed(notice, error=error)
    except Exception:
        log.exception("No notification for failed notice %s", getattr(notice, "pk", None))
