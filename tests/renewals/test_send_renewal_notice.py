from datetime import date, timedelta

import pytest
from django.core import mail

from accounts.models import Contact
from playbooks.models import Task
from renewals import services
from renewals.models import Renewal, RenewalNotice

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def notices(alice_contract) -> list[RenewalNotice]:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return list(RenewalNotice.objects.order_by("email"))


def send(notice: RenewalNotice, hour: int = 7) -> str:
    return services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, hour))


def test_a_sent_notice_comes_from_the_csm_and_says_what_renews(notices, alice) -> None:
    alice.last_name, alice.email = "Martin", "alice@csm.test"
    alice.save()
    Renewal.objects.update(uplift_pct=5, forecast_amount=None)
    assert send(notices[0]) == "sent"
    [message] = mail.outbox
    assert message.to == ["Bill Payer <billing@acme.test>"]
    assert message.from_email.startswith("Alice Martin <")
    assert message.reply_to == ["alice@csm.test"]
    assert "30 April 2026" in message.subject
    assert "USD 24,000.00" in message.body
    assert "USD 25,200.00" in message.body
    html = message.alternatives[0][0]
    assert "<strong>Acme</strong>" in html
    assert message.extra_headers["Message-ID"].startswith(f"<renewal-notice-{notices[0].pk}@")
    notices[0].refresh_from_db()
    assert notices[0].status == RenewalNotice.Status.SENT
    assert notices[0].sent_at == at(NOTICE_DAY, 7)


def test_a_second_delivery_of_the_task_sends_nothing(notices) -> None:
    assert send(notices[0]) == "sent"
    assert send(notices[0], hour=8) == "not claimed"
    assert len(mail.outbox) == 1


def test_a_notice_claimed_by_another_worker_is_left_alone(notices) -> None:
    RenewalNotice.objects.filter(pk=notices[0].pk).update(status=RenewalNotice.Status.SENDING)
    assert send(notices[0]) == "not claimed"
    assert mail.outbox == []


def test_the_first_sent_notice_moves_the_renewal_to_notified(notices) -> None:
    renewal = notices[0].renewal
    assert renewal.stage == Renewal.Stage.UPCOMING
    send(notices[0])
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.NOTIFIED
    assert renewal.history.first().history_change_reason == "renewal notice sent"


def test_a_contact_who_left_after_planning_is_not_emailed(notices) -> None:
    contact = notices[1].contact
    contact.left_on = NOTICE_DAY
    contact.save()
    assert send(notices[1]) == "skipped"
    assert mail.outbox == []
    notices[1].refresh_from_db()
    assert notices[1].status == RenewalNotice.Status.SKIPPED


def test_a_notice_for_a_renewal_lost_meanwhile_is_not_sent(notices) -> None:
    Renewal.objects.update(stage=Renewal.Stage.LOST)
    assert send(notices[0]) == "skipped"
    assert mail.outbox == []


def test_names_cannot_inject_headers(notices, alice) -> None:
    alice.first_name = "Alice\r\nBcc: thief@evil.test"
    alice.save()
    contact = notices[0].contact
    contact.name = "Bill\nBcc: thief@evil.test"
    contact.save()
    send(notices[0])
    raw = mail.outbox[0].message().as_string()
    header_lines = raw.split("\n\n", 1)[0].splitlines()
    assert not [line for line in header_lines if line.lower().startswith("bcc:")]
    assert 'To: "Bill Bcc: thief@evil.test" <billing@acme.test>' in header_lines
    assert "thief@evil.test" not in mail.outbox[0].recipients()


def test_an_invalid_address_fails_for_good_and_tells_the_csm(notices, alice) -> None:
    # Sends go to the contact's current address (a corrected bounce), so the contact has it.
    Contact.objects.filter(pk=notices[0].contact_id).update(email="not an address")
    RenewalNotice.objects.filter(pk=notices[0].pk).update(email="not an address")
    assert send(notices[0]) == "failed"
    notices[0].refresh_from_db()
    assert notices[0].status == RenewalNotice.Status.FAILED
    task = Task.objects.get(key=f"renewal:bad-address:{notices[0].contact_id}")
    assert task.assignee == alice
    assert task.due_on == NOTICE_DAY


def test_delivered_notices_are_listed_per_recipient_for_the_account(notices, acme) -> None:
    send(notices[0])
    statuses = dict(RenewalNotice.objects.for_account(acme).values_list("email", "status"))
    assert statuses == {
        "billing@acme.test": "sent",
        "buyer@acme.test": "pending",
        "renewal@acme.test": "pending",
    }
    assert date(2026, 3, 1) + timedelta(days=60) == notices[0].contract.ends_on
