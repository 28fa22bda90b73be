from datetime import date, datetime, time

import pytest
import time_machine
from django.utils import timezone

from surveys import services
from surveys.models import Survey, SurveyInvite
from tests.api.conftest import api  # noqa: F401  (the token client fixture)

DAY = date(2026, 3, 2)


def at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def nps_invites(acme) -> list[SurveyInvite]:
    """Acme's NPS wave, planned and sent: Dana (decision maker) and Chad (champion)."""
    services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    invites = list(SurveyInvite.objects.filter(survey__kind=Survey.Kind.NPS).order_by("email"))
    for invite in invites:
        with time_machine.travel(at(DAY)):  # the links are signed at sending time
            assert services.send_survey_invite(invite_id=invite.pk, now=at(DAY)) == "sent"
        invite.refresh_from_db()
    return invites
