"""Survey answers as a health component: the mean NPS answer of the last 180 days, with an admin weight,
scored the same in SQL and Python, explained, and shown by calibration."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import HealthComponent, HealthModel, HealthScore, unpack_parts
from health import calibration, explain, nightly, scoring
from renewals.models import Renewal
from surveys.models import Survey, SurveyInvite, SurveyResponse
from tests.factories import AccountFactory, ContactFactory, ContractFactory, RenewalFactory

from .conftest import DAY, give_usage

pytestmark = pytest.mark.django_db


def answer(account, score: int, *, on: date) -> SurveyResponse:
    contact = ContactFactory(account=account, email=f"c{SurveyResponse.objects.count()}@{account.pk}.test")
    survey, _ = Survey.objects.get_or_create(
        account=account, kind="nps", occasion=f"nps:{on}", defaults={"created_on": on}
    )
    invite = SurveyInvite.objects.create(survey=survey, contact=contact, email=contact.email)
    at = timezone.make_aware(timezone.datetime.combine(on, timezone.datetime.min.time()))
    return SurveyResponse.objects.create(
        invite=invite, account=account, contact=contact, kind="nps", score=score, answered_at=at, answered_on=on
    )


@pytest.fixture
def weighted() -> HealthComponent:
    return HealthComponent.objects.create(
        model=HealthModel.objects.default(), kind="survey", weight=10, worst=Decimal("4"), best=Decimal("9")
    )


def test_the_mean_nps_answer_is_scored_in_sql_as_in_python(alice, program, weighted) -> None:
    accounts = [AccountFactory(owner=alice, program=program) for _ in range(3)]
    for account in accounts:
        give_usage(account, active=40, purchased=50)
    answer(accounts[0], 9, on=DAY - timedelta(days=3))
    answer(accounts[0], 4, on=DAY - timedelta(days=10))
    answer(accounts[1], 10, on=DAY - timedelta(days=200))  # outside the window
    nightly.recalculate_health(day=DAY, notify=False)
    default, _ = scoring.model_specs()
    for account in accounts:
        stored = HealthScore.objects.get(account=account, day=DAY)
        expected = scoring.score_inputs(scoring.gather_inputs(account, day=DAY).values, default)
        assert stored.score == expected.score
    parts = HealthScore.objects.get(account=accounts[0], day=DAY).components["survey"]
    assert (parts["input"], parts["score"], parts["n"]) == (6.5, 50.0, 2)
    assert HealthScore.objects.get(account=accounts[1], day=DAY).components["survey"]["score"] is None
    assert explain.describe("survey", parts) == "mean NPS answer 6.5 of 10 (2 answers, 180 days)"


def test_scores_stored_before_the_component_existed_still_unpack() -> None:
    old = [1.0, 50.0, 20.0, 1.0, 2.0] * (len(HealthComponent.Kind.values) - 1)
    assert unpack_parts(old)["survey"]["score"] is None


def test_calibration_shows_how_well_survey_answers_separate_churners(alice, program, weighted) -> None:
    today = DAY + timedelta(days=95)  # the 90-day snapshot is the score of DAY
    churned, kept = AccountFactory(owner=alice, program=program), AccountFactory(owner=alice, program=program)
    for account, score in ((churned, 3), (kept, 10)):
        give_usage(account, active=40, purchased=50)
        answer(account, score, on=DAY - timedelta(days=1))
    nightly.recalculate_health(day=DAY, notify=False)
    contract = ContractFactory(account=churned, ends_on=DAY + timedelta(days=30))
    RenewalFactory(contract=contract, stage=Renewal.Stage.LOST, closed_on=DAY + timedelta(days=30))
    report = {h["horizon"]: h for h in calibration.compute_calibration_report(user=alice, today=today)}[90]
    survey = next(c for c in report["components"] if c["kind"] == "survey")
    assert (survey["lost_n"], survey["kept_n"], survey["auc"]) == (1, 1, 1.0)
