"""A closed-won deal becomes one account in onboarding, however often the CRM posts it."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, Contact
from playbooks.models import Handoff, Milestone, OnboardingItem, Task
from renewals.models import Contract

pytestmark = pytest.mark.django_db

DEAL = {
    "deal_id": "CRM-42",
    "account_name": "Initech",
    "external_id": "INITECH",
    "program": "Professional",
    "csm": "alice",
    "segment": "enterprise",
    "contract": {"starts_on": "2026-02-01", "ends_on": "2027-01-31", "recurring_amount": "36000.00"},
    "what_sold": "Professional plan, 50 seats, 10 success hours",
    "outcomes": [
        {"title": "Cut ticket backlog", "metric": "open tickets", "target": "100", "due_on": "2026-06-30"},
        {"title": "Roll out to support team"},
    ],
    "stakeholders": [
        {
            "name": "Peter Gibbons",
            "email": "peter@initech.test",
            "title": "VP Ops",
            "roles": ["primary", "decision_maker"],
        },
        {"name": "Joanna", "email": "joanna@initech.test", "roles": ["renewal", "billing"]},
    ],
    "expectations": "Quarterly business reviews; no uplift in year one.",
}


@pytest.fixture
def api(alice) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_posting_a_handoff_twice_creates_one_account(api, alice, program_templates) -> None:
    first = api.post("/api/handoffs/", DEAL, format="json")
    second = api.post("/api/handoffs/", DEAL, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    account = Account.objects.get()
    assert (account.name, account.owner, account.program, account.lifecycle_stage) == (
        "Initech",
        alice,
        program_templates,
        "onboarding",
    )
    assert Handoff.objects.get().account == account
    assert Contract.objects.get().account == account
    assert set(Contact.objects.values_list("email", flat=True)) == {"peter@initech.test", "joanna@initech.test"}
    assert OnboardingItem.objects.count() == 3
    titles = list(account.success_plan.objectives.values_list("title", flat=True))
    assert titles == ["Cut ticket backlog", "Roll out to support team", "Adoption"]
    assert Milestone.objects.count() == 3
    assert Task.objects.filter(account=account, source="handoff").count() == 1


def test_handoff_starts_onboarding_relative_to_the_contract_start(api, program_templates) -> None:
    api.post("/api/handoffs/", DEAL, format="json")
    items = list(OnboardingItem.objects.values_list("title", "due_on", "owner__username"))
    assert items == [
        ("Access set up", date(2026, 2, 8), "alice"),
        ("Entitlements explained", date(2026, 2, 15), "alice"),
        ("First value reached", date(2026, 3, 18), None),
    ]


def test_handoff_keeps_contact_roles_and_what_was_sold(api, program_templates) -> None:
    api.post("/api/handoffs/", DEAL, format="json")
    peter = Contact.objects.get(email="peter@initech.test")
    assert (peter.is_primary, peter.is_decision_maker, peter.is_renewal) == (True, True, False)
    handoff = Handoff.objects.get()
    assert handoff.what_sold.startswith("Professional plan")
    assert handoff.outcomes[0]["target"] == "100.00"
    assert handoff.payload["deal_id"] == "CRM-42"


def test_a_second_post_updates_the_handoff_without_duplicating(api, program_templates) -> None:
    api.post("/api/handoffs/", DEAL, format="json")
    changed = {**DEAL, "outcomes": [*DEAL["outcomes"], {"title": "Self-service portal live"}]}
    changed["stakeholders"] = [*DEAL["stakeholders"], {"name": "Bill L", "email": "bill@initech.test"}]
    api.post("/api/handoffs/", changed, format="json")
    assert Account.objects.count() == 1
    assert Contact.objects.count() == 3
    assert Milestone.objects.count() == 4
    assert OnboardingItem.objects.count() == 3


def test_a_bad_handoff_is_a_400_with_field_errors(api) -> None:
    bad = {**DEAL, "deal_id": "", "stakeholders": [{"name": "X", "roles": ["boss"]}]}
    bad.pop("what_sold")
    response = api.post("/api/handoffs/", bad, format="json")
    assert response.status_code == 400
    assert {"deal_id", "what_sold", "stakeholders"} <= set(response.json())
    assert not Account.objects.exists()


def test_a_contract_ending_before_it_starts_is_a_409(api, program_templates) -> None:
    bad = {**DEAL, "contract": {"starts_on": "2026-02-01", "ends_on": "2026-01-01", "recurring_amount": "1"}}
    response = api.post("/api/handoffs/", bad, format="json")
    assert response.status_code == 409
    assert "contract_ends_on" in response.json()
    assert not Account.objects.exists()


def test_a_read_only_user_cannot_post_a_handoff(rita) -> None:
    client = APIClient()
    client.force_authenticate(rita)
    assert client.post("/api/handoffs/", DEAL, format="json").status_code == 403
