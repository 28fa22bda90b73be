"""Tasks to triage: a task by hand, an outcome on close, filters, honest counts and bulk actions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from playbooks import services
from playbooks.models import PlaybookRun, Task

pytestmark = pytest.mark.django_db


def _open(account, title: str, days: int = 0, **fields: object) -> Task:
    task = services.open_task(account=account, title=title, due_on=timezone.localdate() + timedelta(days=days))[0]
    if fields:
        Task.objects.filter(pk=task.pk).update(**fields)
    return task


def test_a_csm_adds_a_task_from_the_account_page(client, alice, acme) -> None:
    client.force_login(alice)
    assert b"Add a task" in client.get(f"/accounts/{acme.pk}/").content
    due = timezone.localdate() + timedelta(days=2)
    response = client.post(
        f"/playbooks/accounts/{acme.pk}/tasks/new/",
        {
            "title": "Prepare the QBR deck",
            "kind": "business_review",
            "priority": "1",
            "due_on": due,
            "description": "n",
        },
    )
    assert response.status_code == 302
    task = Task.objects.get(title="Prepare the QBR deck")
    assert (task.kind, task.priority, task.due_on, task.assignee, task.created_by) == (
        "business_review",
        1,
        due,
        alice,
        alice,
    )


def test_the_task_list_form_names_the_account_and_rejects_a_bad_one(client, alice, acme) -> None:
    client.force_login(alice)
    due = timezone.localdate().isoformat()
    bad = client.post(
        "/playbooks/tasks/new/", {"account": "Nobody Ltd", "title": "x", "kind": "call", "priority": "2", "due_on": due}
    )
    assert bad.status_code == 400
    assert b"No account you can see" in bad.content
    ok = client.post(
        "/playbooks/tasks/new/", {"account": acme.name, "title": "Call", "kind": "call", "priority": "2", "due_on": due}
    )
    assert ok.status_code == 302
    assert Task.objects.get(title="Call").account == acme


def test_another_csms_account_cannot_get_a_task(client, bob, acme) -> None:
    client.force_login(bob)
    due = timezone.localdate().isoformat()
    response = client.post(
        "/playbooks/tasks/new/", {"account": acme.name, "title": "x", "kind": "call", "priority": "2", "due_on": due}
    )
    assert response.status_code == 400
    assert not Task.objects.exists()


def test_done_asks_for_an_outcome_and_keeps_it(client, alice, acme) -> None:
    task = _open(acme, "Call Dana")
    client.force_login(alice)
    assert b"What came of it?" in client.get("/playbooks/tasks/").content
    client.post(f"/playbooks/tasks/{task.pk}/done/", {"outcome": "Renewal on track"})
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "Renewal on track")


def test_filters_and_honest_counts_past_one_page(client, alice, acme) -> None:
    for i in range(105):
        _open(acme, f"Later {i}", days=3)
    _open(acme, "The call", days=-1, kind="call")
    client.force_login(alice)
    page = client.get("/playbooks/tasks/").content.decode()
    assert "showing 1\N{EN DASH}100 of 106 open" in page
    assert "99 of 105" in page  # "Coming up" says what is on the next page
    assert "Page 1 of 2" in page
    filtered = client.get("/playbooks/tasks/?kind=call").content.decode()
    assert "The call" in filtered
    assert "Later 0" not in filtered
    overdue = client.get("/playbooks/tasks/?due=overdue").content.decode()
    assert "showing 1\N{EN DASH}1 of 1 open" in overdue
    by_account = client.get(f"/playbooks/tasks/?scope=all&account={acme.pk}").content.decode()
    assert "of 106 open" in by_account


def test_bulk_done_snooze_and_reassign(client, alice, bob, carol, acme, make_rule) -> None:
    rule = make_rule("no_touchpoint", 10)
    ruled = _open(acme, "From a rule", rule=rule, key=rule.task_key)
    PlaybookRun.objects.create(rule=rule, account=acme, fired_on=timezone.localdate())
    a, b, c = _open(acme, "A"), _open(acme, "B"), _open(acme, "C")
    client.force_login(alice)
    client.post("/playbooks/tasks/bulk/", {"action": "done", "ids": [ruled.pk, a.pk], "outcome": "Sorted"})
    assert set(Task.objects.filter(status="done").values_list("outcome", flat=True)) == {"Sorted"}
    assert PlaybookRun.objects.get().status == "closed"
    client.post("/playbooks/tasks/bulk/", {"action": "snooze", "ids": [b.pk], "days": "3"})
    b.refresh_from_db()
    assert b.snoozed_until == timezone.localdate() + timedelta(days=3)
    client.post("/playbooks/tasks/bulk/", {"action": "reassign", "ids": [c.pk], "assignee": carol.pk})
    c.refresh_from_db()
    assert c.assignee == carol


def test_bulk_ignores_tasks_the_user_cannot_see_and_read_only_is_403(client, bob, rita, acme) -> None:
    task = _open(acme, "Alice's")
    client.force_login(bob)
    response = client.post("/playbooks/tasks/bulk/", {"action": "done", "ids": [task.pk]}, follow=True)
    assert b"0 task(s) marked done" in response.content
    client.force_login(rita)
    assert client.post("/playbooks/tasks/bulk/", {"action": "done", "ids": [task.pk]}).status_code == 403
    task.refresh_from_db()
    assert task.status == "open"


def test_bulk_without_a_tick_says_so(client, alice) -> None:
    client.force_login(alice)
    response = client.post("/playbooks/tasks/bulk/", {"action": "done"}, follow=True)
    assert b"Tick at least one task." in response.content
