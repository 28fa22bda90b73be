from datetime import timedelta
from unittest import mock

import pytest

from playbooks.models import Task
from renewals import services, tasks
from renewals.models import RenewalNotice

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db

LATER = at(NOTICE_DAY, 9)


@pytest.fixture
def notices(alice_contract) -> list[RenewalNotice]:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return list(RenewalNotice.objects.order_by("email"))


def sweep(django_capture_on_commit_callbacks, now=LATER) -> tuple[dict, list[int]]:
    with (
        mock.patch.object(tasks.send_renewal_notices, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = services.sweep_renewal_notices(now=now)
    return result, sorted(pk for call in delay.call_args_list for pk in call.args[0])


def test_pending_notices_whose_message_was_lost_are_published_again(
    notices, django_capture_on_commit_callbacks
) -> None:
    result, published = sweep(django_capture_on_commit_callbacks)
    assert published == sorted(n.pk for n in notices)
    assert result["republished"] == 3
    # Published a moment ago: the next sweep leaves them to the broker.
    _, again = sweep(django_capture_on_commit_callbacks, now=LATER + timedelta(minutes=2))
    assert again == []


def test_recently_published_notices_are_not_published_twice(notices, django_capture_on_commit_callbacks) -> None:
    RenewalNotice.objects.update(enqueued_at=LATER - timedelta(minutes=5))
    _, published = sweep(django_capture_on_commit_callbacks)
    assert published == []


def test_a_send_cut_short_before_the_server_got_it_is_retried(notices, django_capture_on_commit_callbacks) -> None:
    stuck = notices[0]
    RenewalNotice.objects.filter(pk=stuck.pk).update(
        status=RenewalNotice.Status.SENDING, claimed_at=LATER - timedelta(minutes=20), enqueued_at=LATER
    )
    result, published = sweep(django_capture_on_commit_callbacks)
    stuck.refresh_from_db()
    assert stuck.status == RenewalNotice.Status.PENDING
    assert result["reset"] == 1
    assert stuck.pk in published


def test_a_send_cut_short_after_hand_over_goes_to_review_not_out_again(
    notices, alice, django_capture_on_commit_callbacks
) -> None:
    stuck = notices[0]
    RenewalNotice.objects.filter(pk=stuck.pk).update(
        status=RenewalNotice.Status.SENDING,
        claimed_at=LATER - timedelta(minutes=20),
        handed_over_at=LATER - timedelta(minutes=20),
    )
    result, published = sweep(django_capture_on_commit_callbacks)
    stuck.refresh_from_db()
    assert stuck.status == RenewalNotice.Status.NEEDS_REVIEW
    assert stuck.pk not in published
    assert result["needs_review"] == 1
    assert Task.objects.filter(assignee=alice, key=f"renewal:notice-problem:{stuck.pk}").exists()


def test_a_send_in_progress_is_left_alone(notices, django_capture_on_commit_callbacks) -> None:
    RenewalNotice.objects.filter(pk=notices[0].pk).update(
        status=RenewalNotice.Status.SENDING, claimed_at=LATER - timedelta(minutes=1)
    )
    result, published = sweep(django_capture_on_commit_callbacks)
    assert result["reset"] == 0
    assert notices[0].pk not in published
    assert RenewalNotice.objects.get(pk=notices[0].pk).status == RenewalNotice.Status.SENDING


def test_resending_a_reviewed_notice_waits_for_the_sweeper(notices, admin_user) -> None:
    RenewalNotice.objects.filter(pk=notices[0].pk).update(status=RenewalNotice.Status.NEEDS_REVIEW)
    resolved = services.resolve_notice(notices[0], action=services.Resolution.RESEND, by=admin_user, now=LATER)
    assert resolved.status == RenewalNotice.Status.PENDING
    assert resolved.enqueued_at is None


def test_a_reset_changes_its_owners_book_and_a_republish_changes_none(
    notices, alice, bob, django_capture_on_commit_callbacks
) -> None:
    from csm import freshness

    stamps = lambda: (freshness.stamp([alice.pk]), freshness.stamp([bob.pk]))  # noqa: E731
    first = stamps()
    sweep(django_capture_on_commit_callbacks)  # publishes the three pending notices, changes no status
    assert stamps() == first
    RenewalNotice.objects.filter(pk=notices[0].pk).update(
        status=RenewalNotice.Status.SENDING, claimed_at=LATER - timedelta(minutes=20)
    )
    result, _ = sweep(django_capture_on_commit_callbacks)
    assert result["reset"] == 1
    after = stamps()
    assert after[0] != first[0], "alice's notice went back to pending: her pages show it"
    assert after[1] == first[1], "bob's book did not change"
