"""A mail server that is away delays notices; a relay that refuses the sender pauses sending.
Both against a real SMTP conversation with a local server (aiosmtpd)."""

from datetime import timedelta
from unittest import mock

import pytest
from kombu.exceptions import OperationalError

from csm.models import OpsAlert
from playbooks.models import Task
from renewals import services, tasks
from renewals.models import RenewalNotice
from tests.renewals.conftest import NOTICE_DAY, at

from .test_cache_redis_down import closed_port

pytestmark = pytest.mark.django_db
T0 = at(NOTICE_DAY, 7)


@pytest.fixture
def notices(alice_contract) -> list[RenewalNotice]:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    return list(RenewalNotice.objects.order_by("email"))


def send_all(notices: list[RenewalNotice], now) -> list[str]:
    return [services.send_renewal_notice(notice_id=n.pk, now=now) for n in notices]


def due_after_sweep(now, django_capture_on_commit_callbacks) -> list[int]:
    with (
        mock.patch.object(tasks.send_renewal_notices, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.sweep_renewal_notices(now=now)
    return sorted(pk for call in delay.call_args_list for pk in call.args[0])


def test_an_outage_past_the_old_retry_budget_delays_and_then_sends_once(
    notices, smtp_settings, settings, django_capture_on_commit_callbacks
) -> None:
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = closed_port(), 2
    now = T0
    # Ten rounds over 10 hours: the old budget (5 retries + 2 sweeps, about 30 min) is long gone.
    for _ in range(10):
        assert set(send_all(notices, now)) == {"delayed"}
        now += timedelta(hours=1)
    assert set(RenewalNotice.objects.values_list("status", flat=True)) == {"pending"}
    assert OpsAlert.objects.filter(key=services.OUTAGE).count() == 1  # one alert, not one per recipient
    assert not Task.objects.filter(key__startswith="renewal:notice-problem").exists()

    settings.EMAIL_PORT = port  # the server is back
    assert due_after_sweep(now, django_capture_on_commit_callbacks) == sorted(n.pk for n in notices)
    assert set(send_all(notices, now)) == {"sent"}
    assert sorted(smtp_settings.recipients) == sorted(n.email for n in notices)
    assert OpsAlert.objects.get(key=services.OUTAGE).resolved_at == now


def test_a_row_waits_for_its_next_attempt(notices, smtp_settings, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_PORT = closed_port()
    send_all(notices[:1], T0)
    assert notices[0].pk not in due_after_sweep(T0 + timedelta(seconds=30), django_capture_on_commit_callbacks)
    assert notices[0].pk in due_after_sweep(T0 + timedelta(seconds=61), django_capture_on_commit_callbacks)


def test_an_outage_longer_than_the_limit_fails_the_notice(notices, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    settings.NOTICE_MAX_DELAY_HOURS = 48
    assert send_all(notices[:1], T0) == ["delayed"]
    assert send_all(notices[:1], T0 + timedelta(hours=48)) == ["failed"]


def test_a_relay_refusing_the_sender_pauses_sending_and_resumes_after_the_fix(
    notices, smtp_settings, django_capture_on_commit_callbacks
) -> None:
    smtp_settings.mail_reply = "550 5.7.1 Sender address rejected: not owned by user"
    assert send_all(notices, T0) == ["paused", "paused", "paused"]
    assert smtp_settings.mail_froms == 1  # paused after the first refusal: the others waited
    assert set(RenewalNotice.objects.values_list("status", "attempts")) == {("pending", 0)}
    alert = OpsAlert.objects.get(key=services.PAUSED)
    assert "550" in alert.detail
    assert not Task.objects.filter(key__startswith="renewal:notice-problem").exists()
    # Still refused: the sweeper's probe publishes nothing.
    assert due_after_sweep(T0 + timedelta(minutes=2), django_capture_on_commit_callbacks) == []

    smtp_settings.mail_reply = None  # the admin fixed the relay
    later = T0 + timedelta(minutes=4)
    assert due_after_sweep(later, django_capture_on_commit_callbacks) == sorted(n.pk for n in notices)
    assert send_all(notices, later) == ["sent", "sent", "sent"]
    assert sorted(smtp_settings.recipients) == sorted(n.email for n in notices)
    alert.refresh_from_db()
    assert alert.resolved_at == later
    assert OpsAlert.objects.filter(key=services.PAUSED).count() == 1


def test_a_5xx_at_rcpt_is_still_that_recipients_failure(notices, smtp_settings) -> None:
    smtp_settings.rcpt_reply = "550 5.1.1 No such user"
    assert send_all(notices[:1], T0) == ["failed"]
    assert not OpsAlert.objects.exists()


def test_planning_with_the_broker_away_leaves_rows_for_the_next_sweep(
    alice_contract, django_capture_on_commit_callbacks
) -> None:
    with (
        mock.patch.object(tasks.send_renewal_notices, "delay", side_effect=OperationalError("refused")) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    assert result["notices_planned"] == 3
    assert delay.call_count == 1  # the first failure stops the loop
    assert set(RenewalNotice.objects.values_list("enqueued_at", flat=True)) == {None}
    # The next sweep (minutes later, not STUCK_AFTER) publishes them all.
    assert len(due_after_sweep(at(NOTICE_DAY) + timedelta(minutes=2), django_capture_on_commit_callbacks)) == 3


def test_a_535_at_auth_pauses_sending(notices, settings) -> None:
    """A relay whose credentials stopped working refuses every notice: a server problem."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.renewals.conftest import SmtpSink, _free_port

    sink = SmtpSink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=_free_port(), auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=False, handled=False),
    )  # fmt: skip
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD, settings.EMAIL_USE_TLS = "csm", "expired", False
        outcome = send_all(notices[:1], T0)
        assert outcome == ["paused"]
        assert "535" in OpsAlert.objects.get(key=services.PAUSED).detail
        assert sink.messages == []
    finally:
        controller.stop()
