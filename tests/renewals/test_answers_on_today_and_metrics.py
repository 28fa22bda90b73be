"""Recipients' answers show on Today (own book, team) and as answer rates on the metrics page."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from accounts.models import Account, Program
from front import today as sections
from metrics import answers as answer_metrics
from metrics.report import period_containing
from renewals import answers, services
from renewals.models import RenewalNotice
from tests.factories import AccountFactory, ContactFactory, ContractFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


def sent_notices(contract) -> dict[str, RenewalNotice]:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    notices = RenewalNotice.objects.filter(contract=contract)
    for notice in notices:
        services.send_renewal_notice(notice_id=notice.pk, now=at(NOTICE_DAY, 7))
    return {notice.email: notice for notice in RenewalNotice.objects.filter(contract=contract, status="sent")}


def today_page(user, *, view: str = "mine") -> str:
    client = Client()
    client.force_login(user)
    with time_machine.travel(at(NOTICE_DAY, 10), tick=False):
        return client.get("/", {"view": view}).content.decode()


def answers_panel(html: str) -> str:
    return html.split('id="answers"')[1].split("</section>")[0]


@pytest.fixture
def answered(alice_contract) -> dict[str, RenewalNotice]:
    notices = sent_notices(alice_contract)
    now = at(NOTICE_DAY, 9)
    answers.record_answer(notice=notices["billing@acme.test"], kind="renew", now=now)
    answers.record_answer(notice=notices["buyer@acme.test"], kind="talk", now=now)
    answers.record_answer(
        notice=notices["renewal@acme.test"],
        kind="wrong_person",
        now=now,
        name="Nina New",
        email="nina@acme.test",
        role="is_renewal",
    )
    return notices


def test_today_lists_the_csms_recent_answers_with_links(settings, alice, answered) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    panel = answers_panel(today_page(alice))
    assert panel.count("<tr data-answer=") == 3
    for label in ("We plan to renew", "Let&#x27;s talk", "I&#x27;m not the right person"):
        assert label in panel
    assert "named Nina New &lt;nina@acme.test&gt; (Renewal contact)" in panel
    renewal_id = answered["billing@acme.test"].renewal_id
    assert f'href="/renewals/{renewal_id}/#answers"' in panel
    assert "Add as contact and send the notice" in panel  # the CSM can confirm from Today


def test_another_csm_does_not_see_them_the_manager_does_and_read_only_cannot_confirm(
    settings, bob, carol, rita, answered
) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    assert "<tr data-answer=" not in answers_panel(today_page(bob))
    assert answers_panel(today_page(carol, view="team")).count("<tr data-answer=") == 3
    rita_panel = answers_panel(today_page(rita, view="team"))
    assert rita_panel.count("<tr data-answer=") == 3
    assert "Add as contact" not in rita_panel
    assert "awaiting confirmation" in rita_panel


def test_answers_older_than_two_weeks_leave_today(alice, alice_contract) -> None:
    notices = sent_notices(alice_contract)
    answers.record_answer(notice=notices["billing@acme.test"], kind="renew", now=at(NOTICE_DAY, 9))
    scope = sections.Scope(user=alice)
    assert sections.recent_answers(scope, now=at(NOTICE_DAY + timedelta(days=13), 9)).total == 1
    assert sections.recent_answers(scope, now=at(NOTICE_DAY + timedelta(days=15), 9)).total == 0


def test_answer_rate_per_role_and_per_program(alice, acme, answered) -> None:
    # A second program: one delivered notice, not answered.
    enterprise = Program.objects.create(name="Enterprise", renewal_notice_lead_days=60)
    other = AccountFactory(name="Initech", owner=alice, program=enterprise)
    ContactFactory(account=other, name="Ivy", email="ivy@initech.test", is_billing=True)
    contract = ContractFactory(
        account=other, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30), recurring_amount=Decimal("1000")
    )
    sent_notices(contract)
    period = period_containing("quarter", NOTICE_DAY)
    rates = answer_metrics.answer_rates(Account.objects.all(), period)
    assert (rates.total.answered, rates.total.delivered, rates.total.rate) == (3, 4, Decimal("75.0"))
    by_role = {row.label: (row.answered, row.delivered) for row in rates.by_role}
    assert by_role == {"Decision maker": (1, 1), "Renewal": (1, 1), "Billing": (1, 2)}
    by_program = {row.label: (row.answered, row.delivered, row.rate) for row in rates.by_program}
    assert by_program == {"Professional": (3, 3, Decimal("100.0")), "Enterprise": (0, 1, Decimal("0.0"))}
    # A later quarter delivered nothing: no rate rather than 0 %.
    assert (
        answer_metrics.answer_rates(Account.objects.all(), period_containing("quarter", date(2026, 7, 1))).total.rate
        is None
    )


def test_a_bounced_notice_is_not_delivered(alice, acme, answered) -> None:
    services.mark_notice_bounced(answered["billing@acme.test"], error="550 gone", now=at(NOTICE_DAY, 10))
    rates = answer_metrics.answer_rates(Account.objects.all(), period_containing("quarter", NOTICE_DAY))
    assert (rates.total.answered, rates.total.delivered) == (2, 2)


def test_the_metrics_page_shows_the_rates_and_the_formula(client, alice, answered) -> None:
    client.force_login(alice)
    html = client.get("/metrics/", {"period": "quarter", "on": NOTICE_DAY.isoformat()}).content.decode()
    section = html.split('id="answer-rates"')[1].split("</section>")[0]
    assert "Answer rate = delivered notices with at least one answer" in section
    assert "100.0%" in section.split('data-answer-role="Billing"')[1].split("</tr>")[0]
    assert "3 ÷ 3" in section.split('data-answer-program="Professional"')[1].split("</tr>")[0]


def test_another_csm_sees_no_rate_of_alices_notices(client, bob, answered) -> None:
    client.force_login(bob)
    html = client.get("/metrics/", {"period": "quarter", "on": NOTICE_DAY.isoformat()}).content.decode()
    section = html.split('id="answer-rates"')[1].split("</section>")[0]
    assert "no notice delivered" in section
