"""A CSM ticks several tasks on the task list and closes them in one go with an outcome; the
unticked one stays open."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from playbooks.models import Task
from tests.factories import TaskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_csm_bulk_closes_ticked_tasks_with_an_outcome(page, sign_in, alice, acme) -> None:
    today = timezone.localdate()
    first, second, kept = (TaskFactory(account=acme, assignee=alice, title=title, due_on=today)
                           for title in ("Send the QBR deck", "Chase the invoice", "Plan the kick-off"))  # fmt: skip
    sign_in("alice")
    page.goto("/playbooks/tasks/")
    expect(page.locator("#task-count")).to_contain_text("3 open")
    page.get_by_label("Tick: Send the QBR deck").check()
    page.get_by_label("Tick: Chase the invoice").check()
    bulk = page.locator("#bulk")
    bulk.get_by_label("Outcome").fill("Sorted on the weekly call")
    bulk.get_by_role("button", name="Mark done").click()

    expect(page.locator("#task-count")).to_contain_text("1 open")
    expect(page.locator(f"#task-{kept.pk}")).to_be_visible()
    expect(page.locator(f"#task-{first.pk}")).to_have_count(0)
    expect(page.locator(f"#task-{second.pk}")).to_have_count(0)
    for task in (first, second):
        task.refresh_from_db()
        assert (task.status, task.outcome) == (Task.Status.DONE, "Sorted on the weekly call")
    kept.refresh_from_db()
    assert kept.status == Task.Status.OPEN
