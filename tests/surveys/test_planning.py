"""Who is asked and when: NPS every N months to decision makers and champions, CSAT after onboarding,
the exit survey when a renewal is lost; planning twice asks nobody twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from playbooks.models import OnboardingItem
from renewals import services as renewal_services
from renewals.models import ReasonCode, Renewal
from surveys import services
from surveys.models import Survey, SurveyInvite, SurveySettings
from tests.factories import AccountFactory, ContactFactory, OnboardingItemFactory, ProgramFactory

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


def test_nps_goes_to_decision_makers_and_champions_once(acme) -> None:
    ContactFactory(account=acme, name="Left Person", email="left@acme.test", is_champion=True, left_on=DAY)
    ContactFactory(account=acme, name="Opted Out", email="out@acme.test", is_champion=True, email_opt_out=True)
    first = services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    again = services.plan_due_surveys(today=DAY, now=at(DAY, 15), publish=False)
    later = DAY + timedelta(days=30)
    next_month = services.plan_due_surveys(today=later, now=at(later), publish=False)
    assert first["surveys"]["nps"] == 1
    assert again["surveys"]["nps"] == next_month["surveys"]["nps"] == 0
    assert sorted(SurveyInvite.objects.values_list("email", flat=True)) == ["buyer@acme.test", "champ@acme.test"]


def test_the_next_wave_comes_after_the_programs_interval(acme, program) -> None:
    SurveySettings.objects.create(program=program, nps_every_months=3, nps_to_champions=False)
    services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    later = DAY + timedelta(days=92)
    assert services.plan_due_surveys(today=later, now=at(later), publish=False)["surveys"]["nps"] == 1
    assert Survey.objects.filter(kind="nps").count() == 2
    assert set(SurveyInvite.objects.values_list("email", flat=True)) == {"buyer@acme.test"}


def test_programs_on_the_same_settings_share_one_pass_and_each_keeps_its_own(acme, program, alice) -> None:
    SurveySettings.objects.create(program=program, nps_every_months=3, nps_to_champions=False)
    others = []
    for name in ("Essentials", "Enterprise"):  # both on the built-in defaults: one query for the two
        account = AccountFactory(name=f"{name} customer", owner=alice, program=ProgramFactory(name=name))
        ContactFactory(account=account, name="Buyer", email=f"buyer@{name.lower()}.test", is_decision_maker=True)
        ContactFactory(account=account, name="Champ", email=f"champ@{name.lower()}.test", is_champion=True)
        others.append(account)
    with CaptureQueriesContext(connection) as queries:
        due = services._due_nps(today=DAY)
    finders = [q for q in queries.captured_queries if 'FROM "accounts_account"' in q["sql"]]
    assert len(finders) == 2  # Professional's own settings; the two on the defaults together
    assert {(account_id, roles) for account_id, _, _, _, roles in due} == {
        (acme.pk, ("is_decision_maker",)),
        *((account.pk, ("is_decision_maker", "is_champion")) for account in others),
    }
    services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)
    assert set(SurveyInvite.objects.filter(survey__account=acme).values_list("email", flat=True)) == {"buyer@acme.test"}
    assert SurveyInvite.objects.filter(survey__account__in=others).count() == 4


def test_csat_when_the_onboarding_checklist_is_complete(acme) -> None:
    item = OnboardingItemFactory(account=acme, due_on=DAY)
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 0
    OnboardingItem.objects.filter(pk=item.pk).update(completed_on=DAY)
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 1
    assert services.plan_due_surveys(today=DAY, now=at(DAY), publish=False)["surveys"]["csat"] == 0
    survey = Survey.objects.get(kind="csat")
    assert set(survey.invites.values_list("email", flat=True)) == {"buyer@acme.test", "champ@acme.test"}


def test_marking_a_renewal_lost_sends_the_exit_survey(
    alice_contract, alice, django_capture_on_commit_callbacks
) -> None:
    today = timezone.localdate()  # the receiver reads the clock (an entry point)
    renewal = Renewal.objects.create(contract=alice_contract, owner=alice)
    reason = ReasonCode.objects.filter(applies_to__in=["loss", "both"]).first()
    with django_capture_on_commit_callbacks(execute=True):
        renewal_services.mark_renewal_lost(renewal, reason=reason, notes="", by=alice, today=today)
    survey = Survey.objects.get(kind="exit")
    assert survey.renewal_id == renewal.pk
    assert set(survey.invites.values_list("email", flat=True)) == {"buyer@acme.test", "renewal@acme.test"}
    # Published on commit (enqueued); a worker sends them.
    assert not survey.invites.filter(enqueued_at__isnull=True).exists()
    for invite in survey.invites.all():
        services.send_survey_invite(invite_id=invite.pk, now=at(today))
    assert sorted(m.to[0].split("<")[1].rstrip(">") for m in mail.outbox) == ["buyer@acme.test", "renewal@acme.test"]
    assert reason.label in mail.outbox[0].body
    # The daily job finds nothing left to do for that renewal.
    assert services.plan_due_surveys(today=today, now=at(today), publish=False)["surveys"]["exit"] == 0
