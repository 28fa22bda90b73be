from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import services
from playbooks.models import Task

pytestmark = pytest.mark.django_db


def test_completing_a_task_twice_completes_it_once(alice, acme) -> None:
    task = Task.objects.create(account=acme, assignee=alice, title="Call", due_on=date(2026, 3, 1))
    first = timezone.now()
    services.complete_task(task, by=alice, now=first)
    with pytest.raises(ValidationError):
        services.complete_task(task, by=alice, now=timezone.now())
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_at == first


def test_a_task_is_completed_in_place_with_htmx_and_only_by_who_may(client, alice, bob, rita, acme) -> None:
    task = Task.objects.create(account=acme, assignee=alice, title="Send deck", due_on=date(2026, 3, 1))
    url = reverse("accounts:task-complete", args=[task.pk])
    client.force_login(bob)
    assert client.post(url).status_code == 404
    client.force_login(rita)
    assert client.post(url).status_code == 403
    client.force_login(alice)
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_a_completed_task_never_redirects_off_site(client, alice, acme) -> None:
    task = Task.objects.create(account=acme, assignee=alice, title="x", due_on=date(2026, 3, 1))
    client.force_login(alice)
    response = client.post(reverse("accounts:task-complete", args=[task.pk]), {"next": "https://evil.test/"})
    assert response.url == reverse("accounts:account-detail", args=[acme.pk])
