"""The customer's side in a real browser: a contact opens the plan their CSM shared, and answers an
NPS email (the captured mail's own HTML) with one click and a comment.

Screenshots go to $CSM_SHOTS_DIR when set (docs/screenshots/ was made that way), else a temp dir.
"""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Contact
from playbooks.models import Milestone, SuccessPlan, Task
from portal.models import CustomerLink, CustomerLinkView
from surveys import services
from surveys.models import SurveyInvite, SurveyResponse
from tests.factories import OnboardingItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shots(tmp_path) -> Path:
    return Path(os.environ.get("CSM_SHOTS_DIR") or tmp_path)


@pytest.fixture
def public_url(settings, live_server) -> str:
    settings.CSM_PUBLIC_URL = live_server.url
    return live_server.url


def test_the_customer_opens_the_plan_their_csm_shared(browser, page, sign_in, acme, alice, public_url, shots) -> None:
    today = timezone.localdate()
    plan = SuccessPlan.objects.create(account=acme)
    objective = plan.objectives.create(title="Close the books in 3 days")
    objective.milestones.create(title="Ledger connected", due_on=today, status=Milestone.Status.REACHED)
    objective.milestones.create(title="First 3-day close", due_on=today)
    OnboardingItemFactory(account=acme, title="Access set up", due_on=today, completed_on=today)

    sign_in("alice")
    page.goto(f"/accounts/{acme.pk}/")
    panel = page.locator("#customer-links")
    panel.get_by_label("For", exact=True).select_option(label="Dana Buyer")
    panel.get_by_role("button", name="Create a link").click()
    link_box = page.get_by_label("Link for Dana Buyer")
    url = link_box.input_value()
    assert url.startswith(public_url + "/p/")

    customer = browser.new_context(viewport={"width": 1366, "height": 768})  # no session: not signed in
    try:
        view = customer.new_page()
        view.goto(url)
        expect(view.locator("#plan")).to_contain_text("Close the books in 3 days")
        expect(view.locator("[data-realization]")).to_have_text("50% realized")
        expect(view.locator("#onboarding")).to_contain_text("1 of 1 done")
        expect(view.locator("body")).not_to_contain_text("Sign out")
        view.screenshot(path=str(shots / "customer-page.png"), full_page=True)
        pdf = view.request.get(url + "statement.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")
        # The CSM withdraws it; the same link now opens nothing.
        page.reload()
        page.locator("#customer-links").get_by_role("button", name="Withdraw the link of Dana Buyer").click()
        expect(page.get_by_role("status")).to_contain_text("withdrawn")
        view.goto(url)
        expect(view.locator("h1")).to_have_text("Link not valid")
        expect(view.locator("body")).not_to_contain_text("Close the books")
    finally:
        customer.close()
    link = CustomerLink.objects.get()
    assert link.created_by == alice
    assert list(CustomerLinkView.objects.values_list("what", flat=True).order_by("pk")) == ["page", "pdf"]


def test_a_contact_answers_the_nps_email_with_one_click(browser, page, sign_in, acme, alice, public_url, shots) -> None:
    now = timezone.now()
    services.plan_due_surveys(today=timezone.localdate(), now=now, publish=False)
    dana = SurveyInvite.objects.get(email="buyer@acme.test")
    assert services.send_survey_invite(invite_id=dana.pk, now=now) == "sent"
    [message] = mail.outbox
    html = message.alternatives[0][0]

    inbox = browser.new_context(viewport={"width": 900, "height": 700})
    try:
        reader = inbox.new_page()
        reader.set_content(html)  # the email as the contact's mail client shows it
        reader.screenshot(path=str(shots / "survey-email.png"))
        reader.get_by_role("link", name="3", exact=True).click()
        reader.wait_for_url(re.compile(r".*/s/.+/"))
        expect(reader.locator("h1")).to_have_text("Thank you")
        expect(reader.locator("[data-answer]")).to_have_text("3")
        reader.get_by_label("Anything you would like to add? (optional)").fill("Two outages this month.")
        reader.get_by_role("button", name="Send my comment").click()
        expect(reader.locator(".ok")).to_contain_text("Your comment is recorded")
        reader.screenshot(path=str(shots / "survey-answer.png"), full_page=True)
        # A second click on another score changes nothing.
        reader.set_content(html)
        reader.get_by_role("link", name="10", exact=True).click()
        expect(reader.locator("h1")).to_have_text("You have already answered")
    finally:
        inbox.close()
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (3, "Two outages this month.")
    assert Task.objects.filter(key__startswith="survey:detractor:", assignee=alice).exists()

    sign_in("alice")
    expect(page.locator("#survey-answers")).to_contain_text("3 · detractor")
    page.locator("#survey-answers").screenshot(path=str(shots / "today-survey-answers.png"))
    page.goto("/metrics/")
    expect(page.locator("#voice")).to_contain_text("NPS -100.0")
    page.locator("#voice").screenshot(path=str(shots / "metrics-nps.png"))
    assert Contact.objects.get(email="buyer@acme.test").survey_responses.count() == 1
