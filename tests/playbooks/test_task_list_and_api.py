"""The task list and API: my tasks, done and snooze; others' tasks are 404, read-only is 403."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from playbooks import services
from playbooks.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(acme, alice) -> Task:
    return services.open_task(
        account=acme, title="Call Dana", due_on=timezone.localdate() - timedelta(days=1), reason="Why: because"
    )[0]


def test_my_task_list_shows_overdue_tasks_with_their_reason(client, alice, task) -> None:
    client.force_login(alice)
    page = client.get("/playbooks/tasks/").content.decode()
    assert "Call Dana" in page
    assert "Why: because" in page
    assert page.index("Overdue") < page.index("Call Dana") < page.index("Due today")


def test_done_with_htmx_returns_the_row(client, alice, task) -> None:
    client.force_login(alice)
    response = client.post(f"/playbooks/tasks/{task.pk}/done/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"Done</span>" in response.content
    task.refresh_from_db()
    assert task.status == "done"


def test_snooze_moves_the_task_away(client, alice, task) -> None:
    client.force_login(alice)
    client.post(f"/playbooks/tasks/{task.pk}/snooze/", {"days": "7"})
    task.refresh_from_db()
    assert (task.status, task.snoozed_until) == ("snoozed", timezone.localdate() + timedelta(days=7))


def test_another_csm_gets_404_and_read_only_gets_403(client, bob, rita, task) -> None:
    client.force_login(bob)
    assert client.post(f"/playbooks/tasks/{task.pk}/done/").status_code == 404
    client.force_login(rita)
    assert client.post(f"/playbooks/tasks/{task.pk}/done/").status_code == 403
    task.refresh_from_db()
    assert task.status == "open"


def test_the_api_lists_visible_tasks_and_marks_done(alice, bob, task) -> None:
    api = APIClient()
    api.force_authenticate(bob)
    assert api.get("/api/tasks/").json()["count"] == 0
    assert api.post(f"/api/tasks/{task.pk}/done/").status_code == 404
    api.force_authenticate(alice)
    assert [t["title"] for t in api.get("/api/tasks/?mine=1&open=1").json()["results"]] == ["Call Dana"]
    assert api.post(f"/api/tasks/{task.pk}/done/").json()["status"] == "done"
    assert api.post(f"/api/tasks/{task.pk}/done/").status_code == 409


def test_the_api_snoozes_and_refuses_a_past_day(alice, task) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    assert api.post(f"/api/tasks/{task.pk}/snooze/", {"until": "2000-01-01"}).status_code == 409
    until = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert api.post(f"/api/tasks/{task.pk}/snooze/", {"until": until}).json()["snoozed_until"] == until
