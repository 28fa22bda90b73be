"""Answers from a notice's recipient: signed, expiring, single-purpose links; GET asks, POST answers."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.models import Contact
from playbooks.models import Task
from renewals import answers, services
from renewals.models import RenewalAnswer, RenewalNotice
from tests.factories import ProgramFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(alice_contract) -> RenewalNotice:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    return notice


def link(notice: RenewalNotice, kind: str) -> str:
    return re.sub(r"^https?://[^/]+", "", answers.answer_urls(notice)[f"answer_{kind}_url"])


def test_the_notice_carries_the_three_links(notice) -> None:
    [message] = mail.outbox
    assert message.body.count("/r/answer/") == 3
    assert message.alternatives[0][0].count("/r/answer/") == 3


def test_a_get_only_asks_and_a_post_records_plan_to_renew(notice) -> None:
    client = Client()
    page = client.get(link(notice, "renew"))
    assert page.status_code == 200
    assert b"We plan to renew" in page.content
    assert not RenewalAnswer.objects.exists()
    assert client.post(link(notice, "renew")).status_code == 200
    answer = RenewalAnswer.objects.get()
    assert (answer.kind, answer.renewal_id, answer.notice_id) == ("renew", notice.renewal_id, notice.pk)
    client.force_login(notice.contract.account.owner)
    page = client.get(f"/accounts/{notice.contract.account_id}/").content.decode()
    assert "Renewal notice answered: We plan to renew" in page


def test_lets_talk_opens_a_call_task(notice, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(link(notice, "talk"))
    task = Task.objects.get(key=f"renewal:talk:{notice.pk}")
    assert task.title.startswith("Call Bill Payer")


def test_not_the_right_person_proposes_a_contact_the_csm_confirms(
    notice, alice, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            link(notice, "wrong_person"), {"name": "Nina New", "email": "Nina@acme.test", "role": "is_billing"}
        )
    assert response.status_code == 200
    answer = RenewalAnswer.objects.get()
    assert answer.awaits_confirmation
    assert not Contact.objects.filter(email="nina@acme.test").exists()
    assert Task.objects.filter(key=f"renewal:named:{answer.pk}").exists()
    client = Client()
    client.force_login(alice)
    page = client.get(f"/renewals/{notice.renewal_id}/")
    assert b"named Nina New" in page.content
    client.post(f"/renewals/answers/{answer.pk}/confirm/")
    contact = Contact.objects.get(email="nina@acme.test")
    assert contact.is_billing
    assert RenewalNotice.objects.filter(contact=contact, cycle=notice.cycle, status="pending").exists()


def test_a_program_may_add_the_named_contact_at_once(notice) -> None:
    program = ProgramFactory(answer_contacts_at_once=True)
    notice.contract.program = program
    notice.contract.save()
    Client().post(link(notice, "wrong_person"), {"name": "Nina New", "email": "nina@acme.test", "role": "is_renewal"})
    contact = Contact.objects.get(email="nina@acme.test")
    assert contact.is_renewal
    assert RenewalNotice.objects.filter(contact=contact).exists()


def test_a_bad_form_answers_400_with_field_errors(notice) -> None:
    response = Client().post(link(notice, "wrong_person"), {"name": "", "email": "nope", "role": "boss"})
    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content
    assert not RenewalAnswer.objects.exists()


def test_an_expired_link_answers_nothing(notice) -> None:
    url = link(notice, "renew")
    with time_machine.travel(timedelta(days=31)):
        response = Client().post(url)
    assert response.status_code == 400
    assert b"expired" in response.content
    assert not RenewalAnswer.objects.exists()


def test_a_tampered_link_answers_nothing(notice) -> None:
    url = link(notice, "renew")
    token = url.split("/")[3]
    # Another notice's id or another answer in the payload breaks the signature.
    forged = token.replace(token.split(":")[0], "eyJuIjoyLCJhIjoidGFsayJ9")
    assert Client().post(f"/r/answer/{forged}/").status_code == 400
    assert Client().post(f"/r/answer/{token}x/").status_code == 400
    assert not RenewalAnswer.objects.exists()


def test_a_forwarded_link_changes_only_its_own_answer(notice) -> None:
    url = link(notice, "renew")
    Client().post(url)
    Client().post(url)
    assert RenewalAnswer.objects.count() == 1
    assert RenewalAnswer.objects.get().kind == "renew"
