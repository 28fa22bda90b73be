"""An unclear send may well have been delivered: the task and the resolve form say so."""

from datetime import timedelta

import pytest
from django.urls import reverse

from playbooks.models import Task
from renewals import services
from renewals.models import RenewalNotice
from tests.renewals.conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db
LATER = at(NOTICE_DAY, 9)


@pytest.fixture
def unclear(alice_contract, django_capture_on_commit_callbacks) -> RenewalNotice:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.order_by("email").first()
    RenewalNotice.objects.filter(pk=notice.pk).update(
        status=RenewalNotice.Status.SENDING,
        claimed_at=LATER - timedelta(minutes=20),
        handed_over_at=LATER - timedelta(minutes=20),
        enqueued_at=LATER,
    )
    RenewalNotice.objects.exclude(pk=notice.pk).update(enqueued_at=LATER)
    services.sweep_renewal_notices(now=LATER)
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.NEEDS_REVIEW
    return notice


def test_the_task_says_it_may_already_have_been_delivered(unclear) -> None:
    task = Task.objects.get(key=f"renewal:notice-problem:{unclear.pk}")
    assert task.title == (
        f"Renewal notice to {unclear.email} may already have been delivered — check before sending again"
    )
    assert "not delivered" not in task.title


def test_a_failed_notice_still_says_not_delivered(alice_contract) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.first()
    RenewalNotice.objects.filter(pk=notice.pk).update(status=RenewalNotice.Status.SENT)
    services.mark_notice_bounced(notice, error="550 no such user", now=LATER)
    assert Task.objects.get(key=f"renewal:notice-problem:{notice.pk}").title.endswith("was not delivered")


def test_the_resolve_form_defaults_to_not_sending_again_and_warns(client, alice, unclear) -> None:
    client.force_login(alice)
    page = client.get(reverse("renewals:renewal-detail", args=[unclear.renewal_id])).content.decode()
    form = page.split(f'id="resolve-{unclear.pk}"')[1].split("</select>")[0]
    options = [part.split('"')[0] for part in form.split('<option value="')[1:]]
    assert options[0] == services.Resolution.CONFIRM_SENT  # the default: the first option
    assert options[-1] == services.Resolution.RESEND
    assert "may send a second copy" in form
    assert "May already have been delivered" in page
