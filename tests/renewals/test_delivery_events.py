"""Provider delivery events through django-anymail: real signed webhooks, landing on the notice."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.core import mail

from accounts.models import Contact
from playbooks.models import Task
from renewals import services
from renewals.models import NoticeEvent, RenewalNotice
from tests.factories import ContactFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db

SIGNING_KEY = "key-mailgun-signing-test"
SECRET = "hook:s3cret"


@pytest.fixture
def anymail_settings(settings) -> None:
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def billing_notice(alice_contract, anymail_settings) -> RenewalNotice:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    assert services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7)) == "sent"
    notice.refresh_from_db()
    return notice


def basic_auth() -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}


def mailgun_post(client, *, event: str, message_id: str, token: str, severity: str = "", ts: float = 0):
    timestamp = str(int(ts or time.time()))
    signature = hmac.new(SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "id": f"id-{token}",
            "timestamp": float(timestamp),
            "recipient": "billing@acme.test",
            "severity": severity,
            "message": {"headers": {"message-id": message_id}},
            "delivery-status": {"code": 550, "description": "No such mailbox", "message": "5.1.1 user unknown"},
        },
    }
    return client.post(
        "/anymail/mailgun/tracking/", data=json.dumps(body), content_type="application/json", **basic_auth()
    )


def postmark_post(client, body: dict, **extra):
    return client.post(
        "/anymail/postmark/tracking/", data=json.dumps(body), content_type="application/json", **(extra or basic_auth())
    )


def test_the_provider_message_id_is_recorded_at_send_time(billing_notice) -> None:
    [message] = mail.outbox
    assert billing_notice.message_id == str(message.anymail_status.message_id).strip("<>")
    assert billing_notice.message_id


def test_smtp_sends_record_the_message_id_header(alice_contract, smtp_settings) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    notice.refresh_from_db()
    assert notice.message_id.startswith(f"renewal-notice-{notice.pk}@")
    assert smtp_settings.messages[0]["Message-ID"] == f"<{notice.message_id}>"


def test_mailgun_delivered_then_a_duplicate_lands_once(client, billing_notice) -> None:
    for _ in range(2):
        response = mailgun_post(client, event="delivered", message_id=billing_notice.message_id, token="t1")
        assert response.status_code == 200
    billing_notice.refresh_from_db()
    assert billing_notice.delivery == "delivered"
    assert NoticeEvent.objects.filter(notice=billing_notice).count() == 1


def test_a_bad_mailgun_signature_is_refused(client, billing_notice) -> None:
    body = {"signature": {"timestamp": "1", "token": "x", "signature": "0" * 64}, "event-data": {"event": "delivered"}}
    response = client.post(
        "/anymail/mailgun/tracking/", data=json.dumps(body), content_type="application/json", **basic_auth()
    )
    assert response.status_code == 400
    assert not NoticeEvent.objects.exists()


def test_a_mailgun_hard_bounce_marks_the_address_bad_and_reaches_the_fallback_contact(
    client, billing_notice, alice_contract, django_capture_on_commit_callbacks
) -> None:
    # Added after the notices were planned: the next billing contact.
    ContactFactory(account=alice_contract.account, name="Bea Billing", email="bea@acme.test", is_billing=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = mailgun_post(
            client, event="failed", severity="permanent", message_id=billing_notice.message_id, token="t2"
        )
    assert response.status_code == 200
    billing_notice.refresh_from_db()
    assert billing_notice.status == RenewalNotice.Status.BOUNCED
    assert billing_notice.delivery == "bounced"
    contact = Contact.objects.get(email="billing@acme.test")
    assert contact.email_bad_at is not None
    assert "bounced" in contact.email_bad_reason
    fallback = RenewalNotice.objects.get(email="bea@acme.test")
    assert (fallback.cycle, fallback.status) == (billing_notice.cycle, RenewalNotice.Status.PENDING)
    assert fallback.enqueued_at is None  # the sweeper publishes it: a web request never talks to the broker
    assert Task.objects.filter(key=f"renewal:bad-address:{contact.pk}", status=Task.Status.OPEN).exists()
    # A bad address is no longer a renewal recipient.
    assert not Contact.objects.filter(pk=contact.pk).renewal_recipients(today=NOTICE_DAY).exists()


def test_a_mailgun_temporary_failure_only_defers(client, billing_notice) -> None:
    mailgun_post(client, event="failed", severity="temporary", message_id=billing_notice.message_id, token="t3")
    billing_notice.refresh_from_db()
    assert (billing_notice.delivery, billing_notice.status) == ("deferred", RenewalNotice.Status.SENT)
    assert Contact.objects.get(email="billing@acme.test").email_bad_at is None


def test_postmark_bounce_then_a_late_delivery_never_moves_back(client, billing_notice) -> None:
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "MessageID": billing_notice.message_id,
        "Email": "billing@acme.test",
        "BouncedAt": "2026-03-01T08:00:00Z",
        "Description": "The server was unable to deliver your message",
    }
    assert postmark_post(client, bounce).status_code == 200
    delivered = {
        "RecordType": "Delivery",
        "MessageID": billing_notice.message_id,
        "Recipient": "billing@acme.test",
        "DeliveredAt": "2026-03-01T07:59:00Z",
    }
    assert postmark_post(client, delivered).status_code == 200
    billing_notice.refresh_from_db()
    assert billing_notice.delivery == "bounced"
    assert billing_notice.status == RenewalNotice.Status.BOUNCED
    assert NoticeEvent.objects.filter(notice=billing_notice).count() == 2


def test_postmark_without_the_webhook_secret_is_refused(client, billing_notice) -> None:
    body = {"RecordType": "Delivery", "MessageID": billing_notice.message_id, "Recipient": "billing@acme.test"}
    wrong = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"hook:wrong").decode()}
    assert postmark_post(client, body, **wrong).status_code == 400
    assert not NoticeEvent.objects.exists()


def test_postmark_soft_bounce_and_complaint(client, billing_notice) -> None:
    soft = {"RecordType": "Bounce", "ID": 1, "Type": "SoftBounce", "MessageID": billing_notice.message_id}
    postmark_post(client, soft)
    billing_notice.refresh_from_db()
    assert billing_notice.delivery == "deferred"
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 2,
        "Type": "SpamComplaint",
        "MessageID": billing_notice.message_id,
    }
    postmark_post(client, complaint)
    billing_notice.refresh_from_db()
    assert billing_notice.delivery == "complained"
    assert Contact.objects.get(email="billing@acme.test").email_bad_at is not None


def test_an_smtp_permanent_refusal_takes_the_same_path(alice_contract, smtp_settings) -> None:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    ContactFactory(account=alice_contract.account, name="Bea Billing", email="bea@acme.test", is_billing=True)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    smtp_settings.rcpt_reply = "550 5.1.1 No such user"
    assert services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7)) == "failed"
    assert Contact.objects.get(email="billing@acme.test").email_bad_at is not None
    assert RenewalNotice.objects.filter(email="bea@acme.test", cycle=notice.cycle).exists()


def test_events_for_unknown_messages_are_ignored(client, billing_notice) -> None:
    assert mailgun_post(client, event="delivered", message_id="someone-else@x", token="t9").status_code == 200
    assert not NoticeEvent.objects.exists()


def test_events_show_on_the_account_timeline(client, billing_notice, alice) -> None:
    mailgun_post(client, event="delivered", message_id=billing_notice.message_id, token="t5")
    client.force_login(alice)
    page = client.get(f"/accounts/{billing_notice.contract.account_id}/")
    assert page.status_code == 200
    assert "Renewal notice delivered (mailgun)" in page.content.decode()


def test_webhooks_stay_closed_without_the_shared_secret(client, settings) -> None:
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "x"}
    body = {"RecordType": "Delivery", "MessageID": "renewal-notice-1@localhost"}
    response = client.post("/anymail/postmark/tracking/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 404


def test_a_malformed_payload_is_a_400(client, anymail_settings) -> None:
    response = client.post(
        "/anymail/postmark/tracking/", data="not json", content_type="application/json", **basic_auth()
    )
    assert response.status_code == 400
