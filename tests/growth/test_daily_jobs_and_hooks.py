"""The daily jobs run once a day whatever the beat does; the surveys hook raises a promoter's suggestion once."""

from datetime import date

import pytest
from django.dispatch import Signal

from growth import receivers, tasks
from growth.models import Suggestion

pytestmark = pytest.mark.django_db


def test_each_daily_job_does_its_work_once_a_day() -> None:
    assert tasks.raise_suggestions() == {"licences_full": 0, "entitlement_used_up": 0, "milestone_reached": 0}
    assert tasks.raise_suggestions() is None  # the day's JobRun exists: a second tick does nothing
    assert tasks.record_checkpoints() == {"checkpoints": 0}
    assert tasks.record_checkpoints() is None


def test_a_promoter_answer_raises_one_cross_sell_suggestion(acme) -> None:
    survey_answered = Signal()
    survey_answered.connect(receivers.promoter_answered)
    day = date(2026, 6, 1)
    survey_answered.send(sender=None, account=acme, score=8, answered_on=day, response="a-1")  # passive
    assert not Suggestion.objects.exists()
    for _ in range(2):
        survey_answered.send(sender=None, account=acme, score=10, answered_on=day, response="a-2")
    suggestion = Suggestion.objects.get()
    assert (suggestion.signal, suggestion.kind, suggestion.period) == ("promoter", "cross_sell", "survey-a-2")
    assert "answered the survey with 10" in suggestion.reason
