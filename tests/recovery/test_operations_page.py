"""The operations page (staff only), /healthz's worker and beat liveness, and the Today banner."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from csm import operations
from csm.models import JobRun
from renewals import services

pytestmark = pytest.mark.django_db


def test_healthz_reports_worker_and_beat_liveness(client) -> None:
    now = timezone.now()
    operations.beat("beat", now=now)
    operations.beat("worker", now=now - timedelta(minutes=10), detail={"hostname": "celery@box"})
    body = client.get("/healthz").json()
    assert body["ok"] is True
    assert body["beat"]["alive"] is True
    assert body["worker"] == {
        "alive": False,
        "last_heartbeat": body["worker"]["last_heartbeat"],
        "hostname": "celery@box",
    }
    assert client.get("/healthz?strict=1").status_code == 503
    operations.beat("worker", now=now)
    assert client.get("/healthz?strict=1").status_code == 200


def test_the_heartbeat_task_writes_the_worker_heartbeat() -> None:
    from csm import tasks

    tasks.heartbeat.apply()
    assert operations.liveness(now=timezone.now())["worker"].alive


def test_the_liveness_command_fails_on_a_stale_heartbeat() -> None:
    with pytest.raises(CommandError):
        call_command("liveness", "beat")
    operations.beat("beat", now=timezone.now())
    call_command("liveness", "beat")


def test_only_staff_see_the_operations_page(client, alice, admin_user) -> None:
    client.force_login(alice)
    assert client.get("/operations/").status_code == 302  # to the admin sign-in
    client.force_login(admin_user)
    now = timezone.now()
    operations.open_alert(key=services.PAUSED, title="Sending is paused", detail="535 auth failed", now=now)
    JobRun.objects.create(
        job="renewals.plan_notices", day=timezone.localdate(), status="done", detail={"notices_planned": 7}
    )
    page = client.get("/operations/").content.decode()
    assert "<strong>paused</strong>: 535 auth failed" in page
    assert "notices_planned: 7" in page
    assert "Last beat heartbeat" in page


def test_today_shows_administrators_what_stopped(client, admin_user, alice) -> None:
    operations.open_alert(key=services.OUTAGE, title="The mail server is away", detail="", now=timezone.now())
    client.force_login(admin_user)
    assert "The mail server is away" in client.get("/").content.decode()
    client.force_login(alice)
    assert "The mail server is away" not in client.get("/").content.decode()
