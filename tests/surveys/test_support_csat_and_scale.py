"""CSAT after a support-heavy month (the health score's support load over the program's threshold,
once a month), and the planner's statements do not grow with the book."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import services
from surveys.models import Survey, SurveyInvite, SurveySettings
from tests.factories import (
    AccountFactory,
    ContactFactory,
    OnboardingItemFactory,
    UsageSnapshotFactory,
)

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


def test_a_support_heavy_month_asks_for_csat_once_that_month(acme, program) -> None:
    SurveySettings.objects.create(program=program, csat_support_load=6, nps_every_months=0)
    # 3 open cases + 1 escalation = load 5: under the threshold.
    UsageSnapshotFactory(account=acme, date=DAY - timedelta(days=1), open_support_cases=3, escalations=1)
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 0
    # 2 open cases + 2 escalations = load 6: at the threshold.
    UsageSnapshotFactory(account=acme, date=DAY, open_support_cases=2, escalations=2)
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 1
    later = DAY + timedelta(days=10)  # same month: not again
    assert services.plan_due_surveys(today=later, now=at(later), publish=False)["surveys"]["csat"] == 0
    survey = Survey.objects.get(kind="csat")
    assert survey.occasion == "csat:support:2026-03"
    assert survey.question == "How satisfied are you with the support you received this month?"
    assert set(survey.invites.values_list("email", flat=True)) == {"buyer@acme.test", "champ@acme.test"}
    # Next month counts next month's snapshots only: March's load asks nothing in April ...
    next_month = DAY.replace(month=4, day=1)
    assert services.plan_due_surveys(today=next_month, now=at(next_month), publish=False)["surveys"]["csat"] == 0
    # ... a heavy April snapshot asks again, once.
    UsageSnapshotFactory(account=acme, date=next_month, open_support_cases=6, escalations=0)
    assert services.plan_due_surveys(today=next_month, now=at(next_month), publish=False)["surveys"]["csat"] == 1
    assert services.plan_due_surveys(today=next_month, now=at(next_month), publish=False)["surveys"]["csat"] == 0


def test_support_load_of_another_month_or_a_program_without_threshold_asks_nothing(acme, program) -> None:
    UsageSnapshotFactory(account=acme, date=DAY, open_support_cases=20, escalations=5)
    # The built-in default is 0: no support CSAT unless the program sets a threshold.
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 0
    SurveySettings.objects.create(program=program, csat_support_load=4)
    later = DAY + timedelta(days=40)
    assert services.plan_due_surveys(today=later, now=at(later), publish=False)["surveys"]["csat"] == 0
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 1


def _book(program, size: int, lost_renewal) -> None:
    """``size`` accounts each due for every kind of survey: NPS, onboarding CSAT, support CSAT."""
    for i in range(size):
        account = AccountFactory(program=program, name=f"Book {i}")
        ContactFactory(account=account, is_decision_maker=True, is_primary=True)
        ContactFactory(account=account, is_champion=True)
        ContactFactory(account=account, is_renewal=True)
        OnboardingItemFactory(account=account, due_on=DAY, completed_on=DAY - timedelta(days=2))
        UsageSnapshotFactory(account=account, date=DAY, open_support_cases=9)
        lost_renewal(account)


@pytest.fixture
def lost_renewal(alice):
    from renewals.models import Renewal
    from tests.factories import ContractFactory

    def make(account) -> Renewal:
        contract = ContractFactory(
            account=account, starts_on=DAY - timedelta(days=400), ends_on=DAY - timedelta(days=5)
        )
        return Renewal.objects.create(contract=contract, owner=alice, stage=Renewal.Stage.LOST, closed_on=DAY)

    return make


def _statements(program, size: int, lost_renewal) -> tuple[int, dict]:
    _book(program, size, lost_renewal)
    with CaptureQueriesContext(connection) as queries:
        result = services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    return len(queries), result


def test_planning_sends_the_same_statements_for_a_small_and_a_larger_book(program, lost_renewal) -> None:
    SurveySettings.objects.create(program=program, csat_support_load=5)
    small, small_result = _statements(program, 2, lost_renewal)
    Survey.objects.all().delete()
    larger, larger_result = _statements(program, 12, lost_renewal)
    # Every account of both books is due for NPS, onboarding CSAT, support CSAT and an exit survey.
    assert small_result["surveys"] == {"nps": 2, "csat": 4, "exit": 2}
    assert larger_result["surveys"] == {"nps": 14, "csat": 28, "exit": 14}
    assert SurveyInvite.objects.count() == 2 * (14 + 28 + 14)
    assert small == larger
