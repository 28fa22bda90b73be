from datetime import date, timedelta

import pytest

from renewals import services
from renewals.models import Renewal, RenewalNotice
from tests.factories import ContactFactory, RenewalFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


def plan(day: date) -> dict:
    return services.plan_renewal_notices(today=day, now=at(day))


def planned_emails(cycle: str = RenewalNotice.FIRST) -> list[str]:
    return sorted(RenewalNotice.objects.filter(cycle=cycle).values_list("email", flat=True))


def test_it_plans_one_notice_per_renewal_contact(alice_contract) -> None:
    result = plan(NOTICE_DAY)
    assert planned_emails() == ["billing@acme.test", "buyer@acme.test", "renewal@acme.test"]
    assert result["notices_planned"] == 3
    assert set(RenewalNotice.objects.values_list("status", flat=True)) == {RenewalNotice.Status.PENDING}


def test_planning_twice_creates_no_second_notice(alice_contract) -> None:
    plan(NOTICE_DAY)
    again = plan(NOTICE_DAY)
    later_same_window = plan(NOTICE_DAY + timedelta(days=3))
    assert again["notices_planned"] == 0
    assert later_same_window["notices_planned"] == 0
    assert RenewalNotice.objects.count() == 3


def test_it_skips_contacts_who_left_or_opted_out(alice_contract) -> None:
    ContactFactory(account=alice_contract.account, email="gone@acme.test", is_billing=True, left_on=date(2026, 1, 5))
    ContactFactory(account=alice_contract.account, email="quiet@acme.test", is_renewal=True, email_opt_out=True)
    ContactFactory(
        account=alice_contract.account, email="leaving@acme.test", is_renewal=True, left_on=NOTICE_DAY + timedelta(30)
    )
    plan(NOTICE_DAY)
    assert planned_emails() == ["billing@acme.test", "buyer@acme.test", "leaving@acme.test", "renewal@acme.test"]


def test_one_person_with_several_roles_or_records_gets_one_notice(alice_contract) -> None:
    ContactFactory(account=alice_contract.account, email="Buyer@Acme.test", is_billing=True)
    plan(NOTICE_DAY)
    assert planned_emails() == ["billing@acme.test", "buyer@acme.test", "renewal@acme.test"]


def test_a_contract_ending_in_61_days_gets_nothing_today_and_a_notice_tomorrow(alice_contract) -> None:
    day_before = NOTICE_DAY - timedelta(days=1)
    assert alice_contract.days_left(day_before) == 61
    assert plan(day_before)["notices_planned"] == 0
    assert plan(NOTICE_DAY)["notices_planned"] == 3


def test_a_missed_day_is_caught_up_the_next_day(alice_contract) -> None:
    plan(NOTICE_DAY - timedelta(days=1))  # nothing due yet; the 60-day run never happens
    result = plan(NOTICE_DAY + timedelta(days=1))
    assert result["notices_planned"] == 3
    assert set(RenewalNotice.objects.values_list("scheduled_on", flat=True)) == {NOTICE_DAY + timedelta(days=1)}


def test_follow_ups_go_out_while_the_renewal_is_not_committed(alice_contract) -> None:
    plan(NOTICE_DAY)
    plan(alice_contract.ends_on - timedelta(days=30))
    assert len(planned_emails("follow-up-30")) == 3
    Renewal.objects.filter(contract=alice_contract).update(stage=Renewal.Stage.COMMITTED)
    plan(alice_contract.ends_on - timedelta(days=14))
    assert planned_emails("follow-up-14") == []


def test_closed_renewals_and_ended_contracts_get_no_notice(alice_contract) -> None:
    RenewalFactory(contract=alice_contract, stage=Renewal.Stage.LOST)
    assert plan(NOTICE_DAY)["notices_planned"] == 0
    assert plan(alice_contract.ends_on + timedelta(days=1))["notices_planned"] == 0


def test_the_program_lead_time_decides_when_the_first_notice_goes(alice_contract, program) -> None:
    program.renewal_notice_lead_days = 90
    program.save()
    assert plan(alice_contract.ends_on - timedelta(days=91))["notices_planned"] == 0
    assert plan(alice_contract.ends_on - timedelta(days=90))["notices_planned"] == 3


def test_a_contract_recorded_without_a_renewal_gets_one_when_it_nears_its_end(alice_contract) -> None:
    assert plan(NOTICE_DAY - timedelta(days=30))["renewals_created"] == 0
    result = plan(NOTICE_DAY)
    renewal = Renewal.objects.get(contract=alice_contract)
    assert result["renewals_created"] == 1
    assert renewal.owner == alice_contract.account.owner
    assert renewal.forecast_amount == alice_contract.recurring_amount
