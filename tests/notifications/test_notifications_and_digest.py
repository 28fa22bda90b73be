"""Notifications for tasks given by others and failed notices; the daily digest, once a day, opt-out."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications import services
from notifications.models import DigestSent, Notification
from playbooks import services as playbooks
from playbooks import triage
from playbooks.models import Task

pytestmark = pytest.mark.django_db


def test_a_task_from_a_colleague_or_a_reassignment_notifies_the_assignee(client, alice, bob, acme) -> None:
    today = timezone.localdate()
    triage.create_task(account=acme, title="Own note", due_on=today, today=today, by=alice)
    assert not Notification.objects.exists()  # my own task for myself tells me nothing
    task = triage.create_task(account=acme, title="Call them", due_on=today, today=today, by=bob)
    assert Notification.objects.get(user=alice).text == "New task from a colleague: Call them"
    triage.reassign_tasks(Task.objects.all(), ids=[task.pk], assignee=bob, by=alice)
    assert Notification.objects.filter(user=bob).count() == 1
    client.force_login(alice)
    assert 'hx-get="/notifications/count/"' in client.get("/").content.decode()
    assert "1 unread" in client.get("/notifications/count/").content.decode()
    client.post("/notifications/read/")
    assert "0 unread" in client.get("/notifications/count/").content.decode()


def test_the_digest_goes_once_per_user_per_day_and_can_be_turned_off(client, alice, bob, acme) -> None:
    alice.email, bob.email = "alice@example.com", "bob@example.com"
    alice.save()
    bob.save()
    today = timezone.localdate()
    playbooks.open_task(account=acme, title="Overdue call", due_on=today - timedelta(days=2))
    first = services.send_daily_digests(today=today, now=timezone.now())
    second = services.send_daily_digests(today=today, now=timezone.now())
    assert first["sent"] == 1  # bob has nothing due: no email
    assert second == {"sent": 0, "skipped": 2}
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "Overdue call (Acme)" in mail.outbox[0].body
    assert DigestSent.objects.get(user=alice, day=today).items == 1
    client.force_login(alice)
    assert client.post("/notifications/settings/", {}).status_code == 302
    services.send_daily_digests(today=today + timedelta(days=1), now=timezone.now())
    assert len(mail.outbox) == 1
