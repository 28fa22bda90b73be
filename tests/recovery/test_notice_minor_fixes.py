"""Issue 20's minor points: a late contract's first email, problems on Today, the renewal
list filter for notice problems, and sending failed notices again in bulk."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from renewals import emails, services
from renewals.models import RenewalNotice
from tests.factories import AccountFactory, ContactFactory, ContractFactory

pytestmark = pytest.mark.django_db


def account_ending_in(days: int, owner, program, name: str):
    account = AccountFactory(name=name, owner=owner, program=program)
    ContactFactory(account=account, email=f"buyer@{name.lower()}.test", is_decision_maker=True)
    ContractFactory(account=account, ends_on=timezone.localdate() + timedelta(days=days), recurring_amount=Decimal(9))
    return account


def plan(day=None) -> None:
    day = day or timezone.localdate()
    services.plan_renewal_notices(today=day, now=timezone.now(), publish=False)


def test_the_first_email_of_a_contract_recorded_late_is_not_a_reminder(alice, program) -> None:
    account_ending_in(20, alice, program, "Late")
    plan()
    notice = RenewalNotice.objects.get()
    assert notice.cycle.startswith("follow-up")
    assert "A reminder" not in emails.build_message(notice).body
    RenewalNotice.objects.create(
        contract=notice.contract, renewal=notice.renewal, contact=notice.contact, cycle="first",
        email="other@late.test", status=RenewalNotice.Status.SENT, scheduled_on=notice.scheduled_on,
    )  # fmt: skip
    assert "A reminder" in emails.build_message(notice).body  # a real follow-up still says so


def test_a_notice_problem_shows_on_today_whatever_its_place_in_the_window(client, alice, program) -> None:
    for n in range(10):
        account_ending_in(31 + n, alice, program, f"Early{n}")
    account_ending_in(58, alice, program, "Troubled")
    plan()
    RenewalNotice.objects.filter(email="buyer@troubled.test").update(status=RenewalNotice.Status.NEEDS_REVIEW)
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Troubled" in page
    assert "Early0" in page


def test_the_renewal_list_filters_notice_problems_and_sends_failed_ones_again(client, alice, program) -> None:
    account_ending_in(45, alice, program, "Fine")
    account_ending_in(46, alice, program, "Bounced")
    account_ending_in(47, alice, program, "Unclear")
    plan()
    RenewalNotice.objects.filter(email="buyer@bounced.test").update(status=RenewalNotice.Status.BOUNCED)
    RenewalNotice.objects.filter(email="buyer@unclear.test").update(status=RenewalNotice.Status.NEEDS_REVIEW)
    client.force_login(alice)
    url = reverse("renewals:renewal-list")
    listed = client.get(url, {"notices": "problems"}).context["page"].object_list
    assert sorted(r.contract.account.name for r in listed) == ["Bounced", "Unclear"]

    response = client.post(f"{reverse('renewals:renewal-notices-resend')}?notices=problems")
    assert response.status_code == 302
    statuses = dict(RenewalNotice.objects.values_list("email", "status"))
    assert statuses["buyer@bounced.test"] == "pending"
    assert statuses["buyer@unclear.test"] == "needs_review"  # may have been delivered: a person decides
