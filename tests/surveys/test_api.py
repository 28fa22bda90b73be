"""The survey answers API: the caller's book only, filters by account and kind, 400 on bad filters."""

from datetime import timedelta

import pytest

from surveys import services
from surveys.models import Survey, SurveyInvite

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def answers(acme, globex):
    """Acme: Dana's NPS 10 and Chad's CSAT 2; Globex: an NPS 3."""
    services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    Survey.objects.create(account=acme, kind=Survey.Kind.CSAT, occasion="csat:onboarding", created_on=DAY)
    csat = Survey.objects.get(account=acme, kind="csat")
    chad = acme.contacts.get(email="champ@acme.test")
    csat_invite = SurveyInvite.objects.create(survey=csat, contact=chad, email=chad.email)
    now = at(DAY + timedelta(days=1))
    for account, email, score in ((acme, "buyer@acme.test", 10), (globex, "gina@globex.test", 3)):
        invite = SurveyInvite.objects.get(survey__account=account, survey__kind="nps", email=email)
        services.record_response(invite=invite, answer=score, now=now)
    services.record_response(invite=csat_invite, answer=2, now=now)


def rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return sorted((row["contact_name"], row["kind"], row["score"]) for row in response.json()["results"])


def test_a_csm_lists_their_books_answers_and_filters_them(api, alice, bob, carol, acme, answers) -> None:
    assert rows(api(alice).get("/api/survey-responses/")) == [("Chad Champion", "csat", 2), ("Dana Buyer", "nps", 10)]
    assert rows(api(bob).get("/api/survey-responses/")) == [("Gina Globex", "nps", 3)]
    assert len(rows(api(carol).get("/api/survey-responses/"))) == 3
    assert rows(api(carol).get("/api/survey-responses/", {"account": acme.pk, "kind": "nps"})) == [
        ("Dana Buyer", "nps", 10)
    ]
    first = api(alice).get("/api/survey-responses/", {"kind": "nps"}).json()["results"][0]
    assert (first["group"], first["occasion"]) == ("promoter", f"nps:{DAY.isoformat()}")
    answer_id = first["id"]
    assert api(bob).get(f"/api/survey-responses/{answer_id}/").status_code == 404
    assert api(alice).get(f"/api/survey-responses/{answer_id}/").json()["score"] == 10


def test_bad_filters_are_400_with_field_errors_and_answers_cannot_be_written(api, alice, answers) -> None:
    response = api(alice).get("/api/survey-responses/", {"kind": "poll", "account": "x"})
    assert response.status_code == 400
    assert set(response.json()) >= {"kind", "account"}
    assert api(alice).post("/api/survey-responses/", {"score": 10}, format="json").status_code == 405
