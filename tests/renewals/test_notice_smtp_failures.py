"""Sending through a real SMTP conversation with a local sink that answers with errors."""

from datetime import timedelta

import pytest

from playbooks.models import Task
from renewals import services, signals
from renewals.models import RenewalNotice

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(alice_contract) -> RenewalNotice:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return RenewalNotice.objects.get(email="buyer@acme.test")


def send(notice: RenewalNotice) -> str:
    return services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))


def test_smtp_delivery_reaches_the_server_once(notice, smtp_settings) -> None:
    assert send(notice) == "sent"
    assert smtp_settings.recipients == ["buyer@acme.test"]
    notice.refresh_from_db()
    assert notice.handed_over_at is not None
    assert notice.status == RenewalNotice.Status.SENT


def test_a_transient_error_puts_the_notice_back_for_a_retry(notice, smtp_settings) -> None:
    smtp_settings.rcpt_reply = "451 4.3.0 Mailbox temporarily unavailable"
    assert send(notice) == "delayed"
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.PENDING
    assert notice.attempts == 1
    assert "451" in notice.last_error
    assert notice.next_attempt_at == at(NOTICE_DAY, 7) + timedelta(seconds=60)
    smtp_settings.rcpt_reply = None
    assert send(notice) == "sent"
    assert smtp_settings.recipients == ["buyer@acme.test"]


def test_a_server_that_is_down_is_a_transient_error(notice, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert send(notice) == "delayed"
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.PENDING


def test_a_permanent_refusal_marks_the_notice_failed_and_tells_the_csm(
    notice, smtp_settings, alice, django_capture_on_commit_callbacks
) -> None:
    received = []

    def receiver(sender, notice, error, **kwargs) -> None:
        received.append((notice.pk, error))

    signals.notice_failed.connect(receiver)
    smtp_settings.rcpt_reply = "550 5.1.1 No such user"
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert send(notice) == "failed"
    finally:
        signals.notice_failed.disconnect(receiver)
    assert [pk for pk, _ in received] == [notice.pk]
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.FAILED
    assert "550" in notice.last_error
    # One task, to find a working address (tests/renewals/test_one_task_per_bad_address.py).
    assert Task.objects.filter(assignee=alice, key=f"renewal:bad-address:{notice.contact_id}").count() == 1
    assert not Task.objects.filter(key=f"renewal:notice-problem:{notice.pk}").exists()
    assert smtp_settings.messages == []


def test_it_gives_up_after_the_longest_delay(notice, smtp_settings, settings) -> None:
    settings.NOTICE_MAX_DELAY_HOURS = 48
    RenewalNotice.objects.filter(pk=notice.pk).update(failing_since=at(NOTICE_DAY, 7) - timedelta(hours=48))
    smtp_settings.data_reply = "452 4.3.1 Insufficient system storage"
    assert send(notice) == "failed"
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.FAILED
