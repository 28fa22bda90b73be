"""After a bounce, correcting the contact's address sends to the new address: by "Send again"
and, without anyone pressing it, by the next day's planner, also for a single-contact renewal."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import Contact
from renewals import services
from renewals.models import RenewalNotice
from tests.factories import AccountFactory, ContactFactory, ContractFactory
from tests.renewals.conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


def bounce(notice: RenewalNotice) -> None:
    RenewalNotice.objects.filter(pk=notice.pk).update(status=RenewalNotice.Status.SENT, sent_at=at(NOTICE_DAY))
    services.mark_notice_bounced(notice, error="550 5.1.1 no such user", now=at(NOTICE_DAY, 10))


def correct(email: str, new: str) -> None:
    Contact.objects.filter(email=email).update(email=new)


@pytest.fixture
def bounced(alice_contract) -> RenewalNotice:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    bounce(notice)
    correct("billing@acme.test", "Accounts@Acme.test")
    return notice


def test_send_again_goes_to_the_current_address(bounced, alice, smtp_settings) -> None:
    services.resolve_notice(bounced, action=services.Resolution.RESEND, by=alice, now=at(NOTICE_DAY, 11))
    outcome = services.send_renewal_notice(notice_id=bounced.pk, now=at(NOTICE_DAY, 12))
    assert outcome == "sent"
    assert smtp_settings.recipients == ["accounts@acme.test"]
    bounced.refresh_from_db()
    assert bounced.email == "accounts@acme.test"


def test_the_next_days_planner_plans_the_corrected_contact(bounced, django_capture_on_commit_callbacks) -> None:
    next_day = NOTICE_DAY + timedelta(days=1)
    result = services.plan_renewal_notices(today=next_day, now=at(next_day), publish=False)
    assert result["addresses_corrected"] == 1
    bounced.refresh_from_db()
    assert (bounced.status, bounced.email, bounced.enqueued_at) == ("pending", "accounts@acme.test", None)
    # Planned once: a second run finds nothing more to correct.
    assert services.plan_renewal_notices(today=next_day, now=at(next_day), publish=False)["addresses_corrected"] == 0


def test_a_single_contact_renewal_is_planned_again_for_its_corrected_contact(alice, program, smtp_settings) -> None:
    account = AccountFactory(name="Solo", owner=alice, program=program)
    ContactFactory(account=account, email="only@solo.test", is_decision_maker=True)
    ContractFactory(account=account, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30), recurring_amount=Decimal(1))
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.get()
    bounce(notice)
    correct("only@solo.test", "the-only@solo.test")
    next_day = NOTICE_DAY + timedelta(days=1)
    services.plan_renewal_notices(today=next_day, now=at(next_day), publish=False)
    assert services.send_renewal_notice(notice_id=notice.pk, now=at(next_day, 7)) == "sent"
    assert smtp_settings.recipients == ["the-only@solo.test"]
    assert RenewalNotice.objects.count() == 1


def test_a_correction_to_an_address_that_has_the_notice_sends_nothing_twice(alice_contract) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    bounce(notice)
    correct("billing@acme.test", "buyer@acme.test")  # the buyer already has this cycle's notice
    next_day = NOTICE_DAY + timedelta(days=1)
    assert services.plan_renewal_notices(today=next_day, now=at(next_day), publish=False)["addresses_corrected"] == 0
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.BOUNCED
