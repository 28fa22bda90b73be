"""The handoff form does what the API does, from a page."""

import pytest

from accounts.models import Account
from playbooks.models import Handoff

pytestmark = pytest.mark.django_db

FORM = {
    "deal_id": "D-7",
    "account_name": "Umbrella",
    "program": "",
    "csm": "",
    "what_sold": "Enterprise plan",
    "outcomes": "Faster audits | days per audit | 5 | 2026-09-01\nFewer incidents",
    "stakeholders": "Alice Wong | alice@umbrella.test | CTO | primary, technical",
    "expectations": "Named engineer",
}


def test_the_form_records_a_handoff_once(client, alice, program_templates) -> None:
    client.force_login(alice)
    data = {**FORM, "program": program_templates.pk, "csm": alice.pk}
    response = client.post("/playbooks/handoff/", data)
    client.post("/playbooks/handoff/", data)
    account = Account.objects.get()
    assert response["Location"] == f"/playbooks/accounts/{account.pk}/onboarding/"
    assert Handoff.objects.count() == 1
    assert account.contacts.get().is_technical
    assert list(account.success_plan.objectives.values_list("title", flat=True))[:2] == [
        "Faster audits",
        "Fewer incidents",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Enterprise plan" in page
    assert "Access set up" in page


def test_bad_lines_are_field_errors(client, alice) -> None:
    client.force_login(alice)
    response = client.post("/playbooks/handoff/", {**FORM, "stakeholders": "X | not-an-email | | boss"})
    assert response.status_code == 200
    assert "unknown role(s) boss" in response.content.decode()
    assert not Account.objects.exists()
