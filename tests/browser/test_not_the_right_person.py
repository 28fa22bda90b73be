"""A recipient opens "I'm not the right person" from a real sent notice, names who is, and the
CSM, signed in, sees the new contact: proposed (the CSM confirms it from Today) or created at
once, per the program's setting. The notice goes through a real SMTP server on loopback."""

import re
from datetime import timedelta
from decimal import Decimal
from email.message import Message

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Contact
from renewals import services
from renewals.models import RenewalAnswer, RenewalNotice
from tests.factories import ContractFactory
from tests.renewals.conftest import smtp_settings, smtp_sink  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def text_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("the notice has no text part")


@pytest.fixture
def received_link(settings, live_server, smtp_settings, acme) -> str:  # noqa: F811 (fixture)
    """The "not the right person" link of the notice Bill Payer really received."""
    settings.CSM_PUBLIC_URL = live_server.url
    settings.PAGE_CACHE_SECONDS = 0
    today, now = timezone.localdate(), timezone.now()
    ContractFactory(
        account=acme,
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=acme.program.renewal_notice_lead_days),
        recurring_amount=Decimal("24000.00"),
    )
    services.plan_renewal_notices(today=today, now=now, publish=False)
    notice = RenewalNotice.objects.get(email="billing@acme.test")
    assert services.send_renewal_notice(notice_id=notice.pk, now=now) == "sent"
    [message] = [m for m in smtp_settings.messages if "billing@acme.test" in m["X-Rcpt"]]
    links = re.findall(r"https?://\S+/r/answer/\S+/", text_body(message))
    assert len(links) == 3
    [link] = [url for url in links if _kind_of(url) == RenewalAnswer.Kind.NOT_RIGHT_PERSON]
    return link


def _kind_of(url: str) -> str:
    from renewals import answers

    return answers.open_link(url.rstrip("/").rsplit("/", 1)[1])[1]


def name_the_right_person(page, link: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="I'm not the right person")).to_be_visible()
    page.get_by_label("Their name").fill("Nina New")
    page.get_by_label("Their email").fill("nina@acme.test")
    page.get_by_label("Their role").select_option(label="Billing")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()


def test_the_named_person_waits_for_the_csm_who_confirms_from_today(page, sign_in, alice, acme, received_link) -> None:
    name_the_right_person(page, received_link)
    assert not Contact.objects.filter(email="nina@acme.test").exists()  # pending the CSM's confirmation
    page.context.clear_cookies()

    sign_in("alice")
    answers_panel = page.locator("#answers")
    expect(answers_panel).to_contain_text("named Nina New <nina@acme.test> (Billing)")
    answers_panel.get_by_role("button", name="Add as contact and send the notice").click()
    expect(page.get_by_text("Nina New is a renewal contact; the notice goes to nina@acme.test.")).to_be_visible()

    page.goto(f"/accounts/{acme.pk}/")
    expect(page.locator("#contacts")).to_contain_text("nina@acme.test")
    nina = Contact.objects.get(email="nina@acme.test")
    assert nina.is_billing
    assert RenewalNotice.objects.filter(contact=nina, status=RenewalNotice.Status.PENDING).count() == 1


def test_a_program_that_adds_named_people_at_once(page, sign_in, alice, acme, received_link) -> None:
    acme.program.answer_contacts_at_once = True
    acme.program.save()
    name_the_right_person(page, received_link)
    page.context.clear_cookies()

    sign_in("alice")
    expect(page.locator("#answers")).to_contain_text("contact added")
    page.goto(f"/accounts/{acme.pk}/")
    expect(page.locator("#contacts")).to_contain_text("Nina New")
    expect(page.locator("#contacts")).to_contain_text("nina@acme.test")
    assert RenewalNotice.objects.filter(contact__email="nina@acme.test", status=RenewalNotice.Status.PENDING).exists()
