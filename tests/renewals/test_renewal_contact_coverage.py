from datetime import date

import pytest

from accounts.models import Contact
from playbooks.models import Task
from renewals import services
from renewals.models import Renewal, RenewalNotice
from tests.factories import ContactFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


def plan(day: date = NOTICE_DAY) -> dict:
    return services.plan_renewal_notices(today=day, now=at(day))


def test_three_renewal_contacts_are_covered(alice_contract) -> None:
    plan()
    assert Renewal.objects.get(contract=alice_contract).contact_coverage == Renewal.Coverage.OK
    assert not Task.objects.exists()


def test_a_single_contact_still_gets_the_notice_and_the_csm_gets_a_task(alice_contract, alice) -> None:
    Contact.objects.filter(email__in=["renewal@acme.test", "billing@acme.test"]).update(left_on=date(2026, 1, 1))
    plan()
    renewal = Renewal.objects.get(contract=alice_contract)
    assert renewal.contact_coverage == Renewal.Coverage.SINGLE_CONTACT
    assert list(RenewalNotice.objects.values_list("email", flat=True)) == ["buyer@acme.test"]
    task = Task.objects.get()
    assert task.assignee == alice
    assert task.key == f"renewal:single-contact:{renewal.pk}"
    assert list(Renewal.objects.needing_contacts()) == [renewal]


def test_no_contact_means_no_email_and_a_task_to_find_who_is_responsible(alice_contract, alice) -> None:
    Contact.objects.filter(account=alice_contract.account).update(email_opt_out=True)
    plan()
    renewal = Renewal.objects.get(contract=alice_contract)
    assert renewal.contact_coverage == Renewal.Coverage.NO_CONTACT
    assert not RenewalNotice.objects.exists()
    task = Task.objects.get()
    assert task.title == "Find who is responsible for the renewal"
    assert task.due_on == NOTICE_DAY


def test_the_task_is_opened_once_however_often_the_planner_runs(alice_contract) -> None:
    Contact.objects.filter(account=alice_contract.account).update(left_on=date(2026, 1, 1))
    plan()
    Renewal.objects.update(contact_coverage=Renewal.Coverage.UNCHECKED)  # as if re-checked from scratch
    plan()
    plan(date(2026, 3, 2))
    assert Task.objects.count() == 1


def test_a_contact_added_after_the_warning_gets_the_running_notice_the_next_day(alice_contract) -> None:
    Contact.objects.filter(email__in=["renewal@acme.test", "billing@acme.test"]).update(left_on=date(2026, 1, 1))
    plan()
    ContactFactory(account=alice_contract.account, name="New Buyer", email="new@acme.test", is_renewal=True)
    plan(date(2026, 3, 2))
    assert sorted(RenewalNotice.objects.values_list("email", flat=True)) == ["buyer@acme.test", "new@acme.test"]
    assert Renewal.objects.get(contract=alice_contract).contact_coverage == Renewal.Coverage.OK
