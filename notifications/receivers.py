"""Notifications from the apps below: a task assigned to someone else, a notice that failed."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from playbooks.models import Task
from renewals.signals import notice_failed

from . import services


@receiver(post_save, sender=Task)
def task_assigned(sender: type, instance: Task, created: bool, update_fields: frozenset | None, **kwargs) -> None:
    if created or (update_fields and "assignee" in update_fields):
        services.notify_task_assigned(instance, created=created)


@receiver(notice_failed)
def notice_failed_notifies(sender: type, notice: object, error: str, **kwargs) -> None:
    services.notify_notice_failed(notice, error=error)
