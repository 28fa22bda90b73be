"""A batch of notices goes over one SMTP connection, each notice still claimed before its send
and recorded after it; a connection that drops mid-batch costs only the message on it."""

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail

from renewals import services, tasks
from renewals.models import RenewalNotice

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db
T0 = at(NOTICE_DAY, 7)


@pytest.fixture
def notices(alice_contract) -> list[RenewalNotice]:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    return list(RenewalNotice.objects.order_by("email"))


def ids(notices: list[RenewalNotice]) -> list[int]:
    return [notice.pk for notice in notices]


def test_a_batch_goes_over_one_connection(notices, smtp_settings) -> None:
    outcomes = services.send_renewal_notices(notice_ids=ids(notices), now=T0)
    assert outcomes == {"sent": 3, "connections": 1}
    assert smtp_settings.sessions == 1
    assert sorted(smtp_settings.recipients) == sorted(notice.email for notice in notices)
    assert set(RenewalNotice.objects.values_list("status", flat=True)) == {RenewalNotice.Status.SENT}


def test_a_notice_already_sent_in_a_batch_is_not_sent_again(notices, smtp_settings) -> None:
    services.send_renewal_notices(notice_ids=ids(notices[:1]), now=T0)
    outcomes = services.send_renewal_notices(notice_ids=ids(notices), now=T0)  # a duplicate message
    assert outcomes == {"not claimed": 1, "sent": 2, "connections": 1}
    assert sorted(Counter(smtp_settings.recipients).values()) == [1, 1, 1]


def test_a_connection_dropped_mid_batch_resends_only_the_cut_message_once(notices, smtp_settings) -> None:
    smtp_settings.drop_after = 1  # the second message's RCPT: the server hangs up
    outcomes = services.send_renewal_notices(notice_ids=ids(notices), now=T0)
    assert outcomes == {"sent": 2, "delayed": 1, "connections": 2}  # the third went over a new connection
    cut = RenewalNotice.objects.get(pk=notices[1].pk)
    assert (cut.status, cut.handed_over_at, cut.attempts) == (RenewalNotice.Status.PENDING, None, 1)
    assert cut.next_attempt_at > T0
    # Its retry is due later; it goes out once, and nothing already sent goes again.
    later = cut.next_attempt_at + timedelta(seconds=1)
    assert services.send_renewal_notices(notice_ids=ids(notices), now=later) == {
        "not claimed": 2,
        "sent": 1,
        "connections": 1,
    }
    assert Counter(smtp_settings.recipients) == {notice.email: 1 for notice in notices}


def test_a_server_that_cannot_be_reached_is_tried_once_per_batch(notices, smtp_settings, settings) -> None:
    from tests.recovery.test_cache_redis_down import closed_port

    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = closed_port(), 2
    outcomes = services.send_renewal_notices(notice_ids=ids(notices), now=T0)
    assert outcomes == {"delayed": 3, "connections": 0}
    waiting = RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING, attempts=1, next_attempt_at__gt=T0)
    assert waiting.count() == 3  # each counts its attempt and waits, as a single send would
    assert "Connection refused" in waiting.first().last_error


def test_a_batch_with_an_api_backend_opens_it_once(notices) -> None:
    outcomes = services.send_renewal_notices(notice_ids=ids(notices), now=T0)
    assert outcomes == {"sent": 3, "connections": 1}
    assert len(mail.outbox) == 3


@pytest.fixture
def queue() -> Iterator[Callable[[int], None]]:
    """``queue(n)``: the broker's default queue holds exactly n messages (no worker takes them)."""
    from csm.celery import app

    def holding(n: int) -> None:
        app.control.purge()
        for _ in range(n):
            app.send_task("celery.accumulate", args=(1,))

    yield holding
    app.control.purge()


def test_the_sweeper_publishes_batches_up_to_the_queue_target(
    notices, settings, queue, django_capture_on_commit_callbacks
) -> None:
    settings.NOTICE_SEND_BATCH, settings.NOTICE_SEND_QUEUE_TARGET = 2, 3
    queue(2)
    with (
        mock.patch.object(tasks.send_renewal_notices, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = services.sweep_renewal_notices(now=T0)
    # Two messages wait already: room for one more batch of two notices.
    assert result["republished"] == 2
    assert [call.args[0] for call in delay.call_args_list] == [ids(notices[:2])]
    assert RenewalNotice.objects.filter(enqueued_at=T0).count() == 2


def test_a_finished_batch_feeds_the_queue_only_once_it_has_drained_to_half(notices, settings, queue) -> None:
    settings.NOTICE_SEND_BATCH, settings.NOTICE_SEND_QUEUE_TARGET = 2, 4
    queue(3)
    with mock.patch.object(tasks.send_renewal_notices, "delay") as delay:
        assert services.feed_after_batch(now=T0) == 0
    queue(2)
    with mock.patch.object(tasks.send_renewal_notices, "delay") as delay:
        assert services.feed_after_batch(now=T0) == 3
    assert delay.call_count == 0  # published after commit, which this test's transaction never reaches
    assert RenewalNotice.objects.filter(enqueued_at=T0).count() == 3


def test_nothing_is_published_while_the_broker_cannot_be_reached(notices) -> None:
    # The broker being away is the one thing not run here (tests/recovery stops a real Redis).
    with (
        mock.patch("csm.operations.queue_depth", return_value=None),
        mock.patch.object(tasks.send_renewal_notices, "delay") as delay,
    ):
        assert services.sweep_renewal_notices(now=T0)["republished"] == 0
    assert not delay.called
    assert not RenewalNotice.objects.filter(enqueued_at__isnull=False).exists()


def test_the_queue_depth_of_the_real_broker(queue) -> None:
    from csm import operations

    queue(0)
    assert operations.queue_depth() == 0
    queue(3)
    assert operations.queue_depth() == 3


def test_a_batch_costs_two_statements_per_notice_beyond_its_fixed_few(notices, smtp_settings) -> None:
    """Claim, load and checks are set-based: each further notice adds only its hand-over and its
    record (renewal already notified, so no stage change), never a per-notice read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renewals.models import Renewal

    Renewal.objects.update(stage=Renewal.Stage.NOTIFIED)
    with CaptureQueriesContext(connection) as one:
        assert services.send_renewal_notices(notice_ids=ids(notices[:1]), now=T0)["sent"] == 1
    with CaptureQueriesContext(connection) as two:
        assert services.send_renewal_notices(notice_ids=ids(notices[1:]), now=T0)["sent"] == 2
    assert len(two) - len(one) == 2, [query["sql"] for query in two.captured_queries]


def test_a_follow_up_after_a_first_notice_sent_earlier_in_its_batch_is_a_reminder(notices) -> None:
    first = notices[0]
    follow_up = RenewalNotice.objects.create(
        contract=first.contract,
        renewal=first.renewal,
        contact=first.contact,
        email=first.email,
        cycle="follow-up-30",
        scheduled_on=first.scheduled_on,
    )
    assert services.send_renewal_notices(notice_ids=[first.pk, follow_up.pk], now=T0) == {"sent": 2, "connections": 1}
    assert "A reminder: the contract" not in mail.outbox[0].body
    assert "A reminder: the contract" in mail.outbox[1].body
