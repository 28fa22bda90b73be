"""The send-once protocol (docs/architecture.md) end to end: a real Celery worker, the configured broker (Redis on
CI), a real SMTP conversation with a local sink, and the worker killed mid-batch."""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Contact
from renewals import services, tasks
from renewals.models import RenewalNotice
from tests.factories import AccountFactory, ContactFactory, ContractFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(condition: Callable[[], bool], worker, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    print(worker.output())
    raise AssertionError("timed out waiting for the worker")


@pytest.fixture
def book(alice, program) -> set[str]:
    """Four accounts ending in 45 days, three renewal contacts each, and one contact who left."""
    today = timezone.localdate()
    expected = set()
    for n in range(4):
        account = AccountFactory(name=f"Worker {n}", owner=alice, program=program)
        ContractFactory(account=account, ends_on=today + timedelta(days=45))
        for role in ("is_decision_maker", "is_renewal", "is_billing"):
            email = f"{role.removeprefix('is_')}{n}@worker.test"
            ContactFactory(account=account, email=email, **{role: True})
            expected.add(email)
        ContactFactory(account=account, email=f"gone{n}@worker.test", is_billing=True, left_on=today)
    return expected


def sent_count() -> int:
    return RenewalNotice.objects.filter(status=RenewalNotice.Status.SENT).count()


def test_two_beat_ticks_and_a_second_plan_send_each_contact_one_email(celery_worker, smtp_sink, book) -> None:
    first = tasks.plan_renewal_notices.delay().get(timeout=90)
    second = tasks.plan_renewal_notices.delay().get(timeout=90)
    assert first["notices_planned"] == 12
    assert second is None  # the day's JobRun is there
    # Even bypassing the JobRun, the unique keys keep the plan from doubling.
    now = timezone.now()
    assert services.plan_renewal_notices(today=timezone.localdate(), now=now)["notices_planned"] == 0
    wait_for(lambda: sent_count() == 12, celery_worker)
    # A sweep that republishes everything still pending finds nothing to send again.
    assert services.sweep_renewal_notices(now=now + timedelta(hours=1))["republished"] == 0
    celery_worker.wait_idle()
    assert sorted(smtp_sink.recipients) == sorted(book)
    assert RenewalNotice.objects.count() == 12


def test_killing_the_worker_mid_batch_loses_no_email_and_sends_none_twice(celery_worker, smtp_sink, book) -> None:
    smtp_sink.hold_after = 5  # from the sixth on, conversations hang at RCPT: mid-send
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now())
    assert smtp_sink.held.wait(90), celery_worker.output()
    # Kill once the five accepted messages are recorded as sent: the only sends in flight are
    # then the ones hanging before the body went out. (A kill between the body and its
    # record is the one unknowable case: test_sweep_renewal_notices sends it to review.)
    wait_for(lambda: sent_count() == 5, celery_worker)
    celery_worker.kill()
    smtp_sink.hold_after = None
    smtp_sink.release.set()
    delivered_before = len(smtp_sink.messages)
    assert delivered_before == 5
    assert RenewalNotice.objects.filter(status=RenewalNotice.Status.SENDING).exists()

    celery_worker.start()
    # The sweeper, once rows are stale: sends cut short before hand-over go back to pending,
    # lost messages are published again. Nothing the server accepted is sent twice.
    wait_for(lambda: sent_count() >= delivered_before, celery_worker)
    later = timezone.now() + services.STUCK_AFTER + timedelta(minutes=1)
    result = services.sweep_renewal_notices(now=later)
    assert result["reset"] >= 1
    assert result["needs_review"] == 0
    wait_for(lambda: sent_count() == 12, celery_worker)
    celery_worker.wait_idle()  # any message republished twice has been handled: none sent again
    assert sorted(smtp_sink.recipients) == sorted(book)
    assert not {address for address in smtp_sink.recipients if address.startswith("gone")}
    assert Contact.objects.filter(left_on__isnull=False).count() == 4
