"""Where answers land: Today (recent answers), the account page (contact and timeline), the Metrics
page (NPS per program, segment and CSM with its formula; exit reasons beside the CSM's reason code)."""

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from renewals import services as renewal_services
from renewals.models import ReasonCode, Renewal
from surveys import services
from surveys.models import SurveyInvite

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


def click(address: str, label: str) -> None:
    message = next(m for m in mail.outbox if address in m.to[0])
    path = re.search(rf"^{re.escape(label)}: https?://[^/]+(/s/\S+/)$", message.body, re.M).group(1)
    assert Client().get(path).status_code == 200


def test_answers_show_on_today_the_account_page_and_metrics(nps_invites, alice, acme, bob, globex) -> None:
    with time_machine.travel(at(DAY, 10)):
        click("buyer@acme.test", "10")
        click("champ@acme.test", "3")
    client = Client()
    client.force_login(alice)
    with time_machine.travel(at(DAY, 11)):
        today = client.get("/").content.decode()
        account = client.get(f"/accounts/{acme.pk}/").content.decode()
        metrics = client.get("/metrics/?period=quarter&on=2026-03-02").content.decode()
    assert "Survey answers, last 14 days" in today
    assert "3 · detractor" in today
    assert "NPS answered: 10 (promoter)" in account
    assert "NPS answered: 3 (detractor)" in account
    # 1 promoter, 1 detractor of 2 answers: 50 % - 50 % = 0.
    assert re.search(r"data-nps>NPS 0\.0<", metrics)
    assert "% promoters (9-10) - % detractors (0-6)" in metrics
    assert "Professional" in metrics
    assert "alice" in metrics


def test_exit_reasons_beside_the_csms_reason_code(alice_contract, alice, django_capture_on_commit_callbacks) -> None:
    today = timezone.localdate()
    renewal = Renewal.objects.create(contract=alice_contract, owner=alice)
    codes = list(ReasonCode.objects.filter(applies_to__in=["loss", "both"], is_active=True)[:2])
    with django_capture_on_commit_callbacks(execute=True):
        renewal_services.mark_renewal_lost(renewal, reason=codes[0], notes="", by=alice, today=today)
    for invite in SurveyInvite.objects.all():
        services.send_survey_invite(invite_id=invite.pk, now=timezone.now())
    click("buyer@acme.test", codes[1].label)
    client = Client()
    client.force_login(alice)
    metrics = client.get("/metrics/").content.decode()
    row = re.search(r"<tr><td>Acme</td><td>Dana Buyer</td><td>(.*?)</td><td>(.*?)</td>", metrics)
    assert row.groups() == (codes[0].label, codes[1].label)
    assert "the two agree on 0 of 1" in metrics
