"""One click on a score in the email records it, once; expired or tampered links are refused."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from playbooks.models import Task
from surveys.models import SurveyResponse

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


def links_in(body: str) -> dict[str, str]:
    """Score → path, from a survey email's text body ("7: http://host/s/<token>/")."""
    return dict(re.findall(r"^(\w[\w ]*): https?://[^/]+(/s/\S+/)$", body, re.M))


def email_to(address: str):
    return next(m for m in mail.outbox if address in m.to[0])


def test_the_email_has_a_link_per_score_from_the_csm(nps_invites) -> None:
    message = email_to("buyer@acme.test")
    assert list(links_in(message.body)) == [str(score) for score in range(11)]
    assert message.from_email.startswith("Alice")
    assert message.alternatives[0][0].count("/s/") == 11


def test_one_click_records_the_score_and_a_second_click_changes_nothing(nps_invites) -> None:
    links = links_in(email_to("buyer@acme.test").body)
    with time_machine.travel(at(DAY, 10)):
        first = Client().get(links["9"])
        second = Client().get(links["3"])
    assert first.status_code == second.status_code == 200
    assert b"Thank you" in first.content
    assert b"already answered" in second.content
    response = SurveyResponse.objects.get()
    assert (response.score, response.kind, response.contact.email) == (9, "nps", "buyer@acme.test")
    assert response.group == "promoter"


def test_a_comment_is_optional_and_kept_once(nps_invites) -> None:
    link = links_in(email_to("champ@acme.test").body)["8"]
    client = Client()
    with time_machine.travel(at(DAY, 10)):
        assert client.post(link, {"comment": "  "}).status_code == 400
        assert client.post(link, {"comment": "Support is quick."}).status_code == 200
        assert client.post(link, {"comment": "Changed my mind"}).status_code == 400
    assert SurveyResponse.objects.get().comment == "Support is quick."


def test_a_detractor_opens_a_task_for_the_csm_once(nps_invites, alice) -> None:
    link = links_in(email_to("buyer@acme.test").body)["4"]
    with time_machine.travel(at(DAY, 10)):
        Client().get(link)
        Client().get(link)
    task = Task.objects.get(key__startswith="survey:detractor:")
    assert (task.assignee, task.title) == (alice, "Call Dana Buyer: NPS 4")


def test_an_expired_link_is_refused(nps_invites) -> None:
    link = links_in(email_to("buyer@acme.test").body)["10"]
    with time_machine.travel(at(DAY, 10) + timedelta(days=15)):
        page = Client().get(link)
    assert page.status_code == 400
    assert b"expired" in page.content
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("mangle", [lambda p: p[:-3] + "xx/", lambda p: p.replace(":", "0:", 1)])
def test_a_tampered_link_is_refused(nps_invites, mangle) -> None:
    link = links_in(email_to("buyer@acme.test").body)["10"]
    with time_machine.travel(at(DAY, 10)):
        page = Client().get(mangle(link))
    assert page.status_code == 400
    assert not SurveyResponse.objects.exists()
