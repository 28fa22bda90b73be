"""Unsubscribe from the notice: a signed link, RFC 8058 one-click headers, the CSM told."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Contact
from playbooks.models import Task
from renewals import services, unsubscribe
from renewals.models import RenewalNotice

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(alice_contract) -> tuple[RenewalNotice, object]:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    [message] = mail.outbox
    return notice, message


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_notice_carries_one_click_headers_and_a_link(sent) -> None:
    notice, message = sent
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link == unsubscribe.unsubscribe_url(notice)
    assert link in message.body
    assert link in message.alternatives[0][0]


def test_one_click_post_opts_out_without_sign_in_or_csrf(sent, django_capture_on_commit_callbacks) -> None:
    _, message = sent
    client = Client(enforce_csrf_checks=True)
    url = path_of(message.extra_headers["List-Unsubscribe"].strip("<>"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    contact = Contact.objects.get(email="billing@acme.test")
    assert contact.email_opt_out
    assert contact.email_opt_out_source == "one-click"
    assert contact.email_opt_out_at is not None
    task = Task.objects.get(key=f"renewal:opted-out:{contact.pk}")
    assert "fewer recipients" in task.description
    # The other pending notices to this contact will not go out.
    assert not RenewalNotice.objects.filter(contact=contact, status=RenewalNotice.Status.PENDING).exists()


def test_a_get_only_asks_for_confirmation(sent) -> None:
    notice, _ = sent
    response = Client().get(path_of(unsubscribe.unsubscribe_url(notice)))
    assert response.status_code == 200
    assert b"Stop renewal notices?" in response.content
    assert not Contact.objects.get(email="billing@acme.test").email_opt_out


def test_a_tampered_link_changes_nothing(sent) -> None:
    notice, _ = sent
    url = path_of(unsubscribe.unsubscribe_url(notice))
    response = Client().post(url[:-3] + "xx/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert not Contact.objects.filter(email_opt_out=True).exists()
