"""The customer page: a signed, expiring, revocable link per contact; only that account; every view logged."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from accounts.models import Contact
from playbooks import services as playbook_services
from playbooks.models import EntitlementUse, Milestone, SuccessPlan
from portal import services
from portal.models import CustomerLink, CustomerLinkView
from tests.factories import ContractFactory, OnboardingItemFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(timezone.datetime(2026, 3, 2, 10))


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def acme_plan(acme, globex):
    plan = SuccessPlan.objects.create(account=acme)
    objective = plan.objectives.create(title="Cut month-end close to 3 days")
    objective.milestones.create(title="Ledger connected", due_on=date(2026, 1, 15), status=Milestone.Status.REACHED)
    objective.milestones.create(title="First 3-day close", due_on=date(2026, 4, 30))
    other = SuccessPlan.objects.create(account=globex)
    other.objectives.create(title="Globex secret objective")
    ContractFactory(account=acme, starts_on=date(2024, 5, 1), ends_on=date(2027, 4, 30))
    EntitlementUse.objects.create(account=acme, kind="business_review", quantity=1, used_on=date(2025, 6, 10))
    EntitlementUse.objects.create(account=acme, kind="training", quantity=3, used_on=date(2025, 4, 20))  # last year
    EntitlementUse.objects.create(account=globex, kind="training", quantity=7, used_on=date(2025, 6, 1))
    OnboardingItemFactory(account=acme, title="Access set up", due_on=date(2024, 5, 8), completed_on=date(2024, 5, 7))
    OnboardingItemFactory(account=acme, title="First value reached", due_on=date(2024, 6, 30))
    return plan


@pytest.fixture
def link(acme, alice, acme_plan) -> CustomerLink:
    dana = Contact.objects.get(email="buyer@acme.test")
    return services.create_link(contact=dana, by=alice, days=30, now=NOW)


def test_the_page_shows_only_its_account_and_logs_the_view(link) -> None:
    with time_machine.travel(NOW + timedelta(hours=1)):
        page = Client().get(path_of(services.url_for(link)), HTTP_USER_AGENT="Mail preview")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cut month-end close to 3 days" in html
    assert "50% realized" in html
    assert "Contract year 1 May 2025 to 30 April 2026" in html
    assert "Access set up" in html
    assert "1 of 2 done" in html
    # The contract year counts the business review, not last year's training.
    assert re.search(r"Business review</td><td class=\"num\">\d+</td><td class=\"num\">1</td>", html)
    assert re.search(r"Training seat[s]?</td><td class=\"num\">\d+</td><td class=\"num\">0</td>", html)
    assert "Globex" not in html
    assert "secret" not in html
    assert 'href="/accounts' not in html
    assert "Sign out" not in html
    view = CustomerLinkView.objects.get()
    assert (view.link, view.what, view.user_agent) == (link, "page", "Mail preview")


def test_the_statement_pdf(link) -> None:
    with time_machine.travel(NOW + timedelta(hours=1)):
        pdf = Client().get(path_of(services.url_for(link)) + "statement.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert CustomerLinkView.objects.filter(what="pdf").count() == 1


def test_a_revoked_link_is_refused(link, alice) -> None:
    client = Client()
    client.force_login(alice)
    assert client.post(f"/portal/links/{link.pk}/revoke/").status_code == 302
    with time_machine.travel(NOW + timedelta(hours=1)):
        page = Client().get(path_of(services.url_for(link)))
    assert page.status_code == 403
    assert b"withdrawn" in page.content
    assert b"Cut month-end" not in page.content
    assert not CustomerLinkView.objects.exists()


def test_an_expired_or_tampered_link_is_refused(link) -> None:
    url = path_of(services.url_for(link))
    with time_machine.travel(NOW + timedelta(days=31)):
        assert b"expired" in Client().get(url).content
    with time_machine.travel(NOW + timedelta(hours=1)):
        tampered = Client().get(url.replace(":", "0:", 1))
        # Another link's id with this link's signature.
        forged = signing.b64_encode(json.dumps({"l": link.pk + 1}).encode()).decode()
        other_id = Client().get(re.sub(r"/p/[^:]+:", f"/p/{forged}:", url))
    assert tampered.status_code == other_id.status_code == 403
    assert not CustomerLinkView.objects.exists()


def test_the_csm_creates_a_link_from_the_account_page_and_rita_cannot(acme, alice, rita, acme_plan) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    client = Client()
    client.force_login(rita)
    assert client.post(f"/portal/accounts/{acme.pk}/links/", {"contact": dana.pk, "days": 7}).status_code == 403
    client.force_login(alice)
    response = client.post(f"/portal/accounts/{acme.pk}/links/", {"contact": dana.pk, "days": 7}, follow=True)
    link = CustomerLink.objects.get()
    assert (link.contact, link.created_by, (link.expires_at - link.created_at).days) == (dana, alice, 7)
    assert services.url_for(link) in response.content.decode()
    bad = client.post(f"/portal/accounts/{acme.pk}/links/", {"contact": dana.pk, "days": "x"}, follow=True)
    assert b"between 1 and 365" in bad.content
    assert CustomerLink.objects.count() == 1


def test_another_csms_account_is_not_found(globex, alice) -> None:
    gina = Contact.objects.get(email="gina@globex.test")
    client = Client()
    client.force_login(alice)
    assert client.post(f"/portal/accounts/{globex.pk}/links/", {"contact": gina.pk}).status_code == 404


def test_the_contract_year_follows_the_anniversary(acme) -> None:
    ContractFactory(account=acme, starts_on=date(2024, 5, 1), ends_on=date(2027, 4, 30), recurring_amount=Decimal(1))
    assert services.contract_year(acme, today=date(2026, 3, 2)) == (date(2025, 5, 1), date(2026, 4, 30), True)
    assert services.contract_year(acme, today=date(2026, 5, 1)) == (date(2026, 5, 1), date(2027, 4, 30), True)
    assert playbook_services  # the statement is the staff one's computation (portal.services.customer_view)
