"""A promoter's survey answer, recorded by its link, raises one cross-sell suggestion; the CSM turns it
into an opportunity (docs/domain.md §10, §12)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from growth import services
from growth.models import Opportunity, Suggestion
from surveys import services as survey_services
from surveys.models import SurveyInvite

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def test_a_promoters_answer_raises_one_suggestion_that_becomes_an_opportunity(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    survey_services.plan_due_surveys(today=TODAY, now=_at(TODAY), publish=False)
    dana, chad = (
        SurveyInvite.objects.get(survey__account=acme, email=e) for e in ("buyer@acme.test", "champ@acme.test")
    )
    with django_capture_on_commit_callbacks(execute=True):
        survey_services.record_response(invite=chad, answer=8, now=_at(TODAY))  # a passive: nothing
    assert not Suggestion.objects.exists()
    for _ in range(2):  # the first click records the 10; a second click changes nothing
        with django_capture_on_commit_callbacks(execute=True):
            survey_services.record_response(invite=dana, answer=10, now=_at(TODAY))
    suggestion = Suggestion.objects.get()
    assert (suggestion.account, suggestion.signal, suggestion.kind) == (acme, "promoter", "cross_sell")
    assert suggestion.reason == f"A promoter answered the survey with 10 on {TODAY:%d %b %Y}."

    opportunity = services.accept_suggestion(
        suggestion, by=alice, today=TODAY, amount=Decimal("3000"), close_date=TODAY + timedelta(days=60)
    )
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.opportunity) == ("accepted", opportunity)
    assert (opportunity.account, opportunity.kind, opportunity.stage) == (acme, "cross_sell", "open")
    assert opportunity.reason == suggestion.reason
    assert Opportunity.objects.count() == 1
    # The daily job does not raise it again.
    assert services.raise_suggestions(today=TODAY)["licences_full"] == 0
    assert Suggestion.objects.count() == 1


def _at(day: date):
    from datetime import datetime, time

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(10)))
