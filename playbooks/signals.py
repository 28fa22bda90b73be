"""Playbooks events other apps react to (notifications)."""

from django.dispatch import Signal

# tasks=list[Task]: tasks opened in bulk (``services.open_tasks``), which send no ``post_save``.
# Sent inside the opener's transaction; the tasks may have no primary key (a bulk insert that
# ignores conflicts). Receivers must not raise.
tasks_opened = Signal()
