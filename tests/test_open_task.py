from datetime import date

import pytest

from playbooks.models import Task
from playbooks.services import open_task

pytestmark = pytest.mark.django_db


def test_a_task_with_the_same_key_is_opened_once(acme, alice) -> None:
    first, created = open_task(account=acme, title="Find a renewal contact", due_on=date(2026, 3, 1), key="k1")
    again, created_again = open_task(account=acme, title="Find a renewal contact", due_on=date(2026, 3, 1), key="k1")
    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert first.assignee == alice


def test_a_closed_task_does_not_block_a_new_one(acme) -> None:
    first, _ = open_task(account=acme, title="Call", due_on=date(2026, 3, 1), key="k2")
    Task.objects.filter(pk=first.pk).update(status=Task.Status.DONE)
    second, created = open_task(account=acme, title="Call", due_on=date(2026, 4, 1), key="k2")
    assert created is True
    assert second.pk != first.pk
