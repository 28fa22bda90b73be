"""Survey invites keep the notices' outbox guarantees: claimed before sending, never sent twice,
swept when a message or a worker was lost; the daily job runs once a day."""

from datetime import timedelta

import pytest
from django.core import mail

from csm.models import JobRun
from surveys import services, tasks
from surveys.models import SurveyInvite

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


def test_a_second_delivery_of_the_send_finds_nothing_to_claim(nps_invites) -> None:
    sent = len(mail.outbox)
    assert services.send_survey_invite(invite_id=nps_invites[0].pk, now=at(DAY, 10)) == "not claimed"
    assert len(mail.outbox) == sent


def test_the_sweeper_republishes_waiting_invites_and_flags_cut_short_ones(
    acme, django_capture_on_commit_callbacks
) -> None:
    services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    waiting, cut_short = SurveyInvite.objects.order_by("email")
    SurveyInvite.objects.filter(pk=cut_short.pk).update(status="sending", claimed_at=at(DAY), handed_over_at=at(DAY))
    with django_capture_on_commit_callbacks(execute=True):
        result = services.sweep_survey_invites(now=at(DAY) + timedelta(minutes=20))
    assert result == {"republished": 1, "reset": 0, "needs_review": 1}
    waiting.refresh_from_db()
    cut_short.refresh_from_db()
    assert waiting.enqueued_at is not None
    assert cut_short.status == "needs_review"


def test_the_daily_job_plans_once_a_day(acme) -> None:
    first = tasks.plan_due_surveys()
    assert first["surveys"]["nps"] == 1
    assert tasks.plan_due_surveys() is None  # the day's JobRun exists
    assert JobRun.objects.filter(job="surveys.plan_due").count() == 1
