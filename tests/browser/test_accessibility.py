"""axe-core (tests/browser/package.json, installed by `npm ci` in tests/browser) checks every main
page, as a CSM, a manager and a read-only user, at a laptop's width and at a phone's: no serious or
critical violation (WCAG 2 A/AA rules, colour contrast among them)."""

import json
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact
from portal import services as portal_services
from renewals import answers as renewal_answers
from renewals import unsubscribe
from renewals.models import Renewal, RenewalNotice
from surveys import services as survey_services
from surveys.models import SurveyInvite
from tests.browser.conftest import DESKTOP, PHONE, visit
from tests.main_pages import main_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({rule: v.id, impact: v.impact,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary)}));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/browser (.ci/run does).")
    return AXE.read_text()


def serious_violations(page, axe_source: str) -> list[dict]:
    # Evaluated through the DevTools protocol: the pages' CSP (script-src 'self') stays on.
    page.evaluate(axe_source + "\n;void 0")
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize(
    ("username", "viewport"),
    [("alice", DESKTOP), ("carol", DESKTOP), ("rita", DESKTOP), ("alice", PHONE)],
    ids=["csm", "manager", "read-only", "csm-phone"],
)
def test_no_main_page_has_a_serious_accessibility_violation(open_as, demo_book, axe_source, username, viewport):
    page = open_as(username, viewport)
    found = {}
    pages = main_pages(demo_book[username])
    for path in pages:
        visit(page, path)
        if violations := serious_violations(page, axe_source):
            found[path] = violations
    assert found == {}, json.dumps(found, indent=1)
    assert len(pages) >= 16


def sent_notice(user) -> RenewalNotice:
    """A renewal notice sent to a contact of the person's book (the small demo book plans none)."""
    renewal = Renewal.objects.visible_to(user).select_related("contract").order_by("pk").first()
    assert renewal is not None, "the demo book gives the person a renewal"
    contact = renewal.contract.account.contacts.exclude(email="").order_by("pk").first()
    assert contact is not None, "the renewal's account has a contact with an email"
    return RenewalNotice.objects.create(contract=renewal.contract, renewal=renewal, contact=contact, cycle="first",
                                        email=contact.email, status=RenewalNotice.Status.SENT,
                                        scheduled_on=timezone.localdate())  # fmt: skip


def other_pages(user) -> dict[str, int]:
    """Path → expected status of the pages outside the main walk: the error pages, the person's own
    tokens and sessions, and the pages a customer opens from an email or a shared link."""
    contact = (
        Contact.objects.filter(account__in=Account.objects.visible_to(user), left_on__isnull=True)
        .order_by("pk")
        .first()
    )
    invite = SurveyInvite.objects.order_by("pk").first()
    notice = RenewalNotice.objects.order_by("pk").first() or sent_notice(user)
    assert contact is not None, "the demo book gives the person a current contact"
    assert invite is not None, "the demo book has a survey invite"
    link = portal_services.create_link(contact=contact, by=user, days=30, now=timezone.now())
    return {
        "/tokens/": 200,
        "/sessions/": 200,
        "/audit/": 403,  # a CSM's forbidden page
        "/accounts/999999999/": 404,
        "/no-such-page/": 404,
        reverse("portal-public:page", args=[portal_services.token_for(link)]): 200,
        reverse("surveys-public:answer", args=[survey_services.token_for(invite, 9)]): 200,
        reverse("surveys-public:answer", args=["tampered"]): 400,
        reverse("renewals-public:answer", args=[renewal_answers.token_for(notice, "renew")]): 200,
        reverse("renewals-public:unsubscribe", args=[unsubscribe.token_for(notice)]): 200,
    }


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_error_token_session_or_customer_page_has_a_serious_accessibility_violation(
    open_as, demo_book, axe_source, viewport
) -> None:
    page = open_as("alice", viewport)
    found, answered = {}, {}
    pages = other_pages(demo_book["alice"])
    for path in pages:
        response = page.goto(path)
        assert response is not None, path
        answered[path] = response.status
        page.wait_for_load_state("networkidle")
        if violations := serious_violations(page, axe_source):
            found[path] = violations
    assert answered == pages
    assert found == {}, json.dumps(found, indent=1)
