"""A recipient's address refused for good opens one task for the CSM: find a working address
or the successor. Not also "notice not delivered" for the same email (issue 17, item 5)."""

import pytest

from accounts.models import Contact
from playbooks.models import Task
from renewals import services
from renewals.models import RenewalNotice
from tests.factories import ContactFactory

from .conftest import NOTICE_DAY, at
from .test_delivery_events import anymail_settings, billing_notice, mailgun_post  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def open_tasks() -> list[str]:
    return sorted(Task.objects.filter(status=Task.Status.OPEN).values_list("key", flat=True))


def test_an_smtp_550_opens_only_the_find_a_working_address_task(
    alice, alice_contract, smtp_settings, django_capture_on_commit_callbacks
) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    smtp_settings.rcpt_reply = "550 5.1.1 No such user"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7)) == "failed"
    contact = Contact.objects.get(email="billing@acme.test")
    assert open_tasks() == [f"renewal:bad-address:{contact.pk}"]
    task = Task.objects.get()
    assert (task.assignee, task.title) == (alice, "Find a working address or successor for Bill Payer")
    assert "550" in task.description
    notice.refresh_from_db()
    assert notice.status == RenewalNotice.Status.FAILED  # still listed with the notices that need a person


def test_with_a_fallback_contact_the_one_task_says_where_the_notice_goes(
    alice_contract, smtp_settings, django_capture_on_commit_callbacks
) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    ContactFactory(account=alice_contract.account, name="Bea Billing", email="bea@acme.test", is_billing=True)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    smtp_settings.rcpt_reply = "550 5.1.1 No such user"
    with django_capture_on_commit_callbacks(execute=True):
        services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    [task] = Task.objects.filter(status=Task.Status.OPEN)
    assert task.key.startswith("renewal:bad-address:")
    assert "The notice now goes to bea@acme.test." in task.description


def test_a_provider_hard_bounce_opens_one_task_too(client, billing_notice, django_capture_on_commit_callbacks) -> None:  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        response = mailgun_post(
            client, event="failed", severity="permanent", message_id=billing_notice.message_id, token="b1"
        )
    assert response.status_code == 200
    billing_notice.refresh_from_db()
    assert billing_notice.status == RenewalNotice.Status.BOUNCED
    assert open_tasks() == [f"renewal:bad-address:{billing_notice.contact_id}"]


def test_a_failure_that_is_not_about_the_address_still_opens_the_not_delivered_task(
    alice_contract, smtp_settings, django_capture_on_commit_callbacks, settings
) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY), publish=False)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    settings.NOTICE_MAX_DELAY_HOURS = 0  # a server away for longer than the notice may wait
    smtp_settings.data_reply = "451 4.3.0 Try again later"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7)) == "failed"
    assert open_tasks() == [f"renewal:notice-problem:{notice.pk}"]
