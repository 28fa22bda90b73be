"""No CSM changes another book through the handoff, by any id in the body, on the API or the form.

Who may assign whom: an admin (or an integration's admin token) anyone, a manager their team,
a CSM only themselves (docs/security.md, "Handoff").
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, Contact
from playbooks.models import Handoff
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

DEAL = {
    "deal_id": "D-ALICE",
    "account_name": "Acme",
    "external_id": "ACME",
    "what_sold": "Enterprise plan",
}
TAKEOVER = {
    "deal_id": "D-BOB",
    "account_name": "Acme (renamed by bob)",
    "external_id": "ACME",
    "csm": "bob",
    "stakeholders": [{"name": "Mallory", "email": "mallory@evil.test", "roles": ["decision_maker"]}],
    "what_sold": "Nothing",
}


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _unchanged(acme, alice) -> None:
    acme.refresh_from_db()
    assert (acme.name, acme.owner) == ("Acme", alice)
    assert not Contact.objects.filter(email="mallory@evil.test").exists()


def test_bob_cannot_take_alices_account_by_external_id(acme, alice, bob) -> None:
    for body in (TAKEOVER, {k: v for k, v in TAKEOVER.items() if k != "csm"}):
        response = _api(bob).post("/api/handoffs/", body, format="json")
        assert response.status_code == 409
        assert response.json() == {"external_id": ["This id cannot be used for this handoff."]}
    _unchanged(acme, alice)
    assert not Handoff.objects.exists()


def test_bob_cannot_overwrite_alices_handoff_by_deal_id(acme, alice, bob) -> None:
    assert _api(alice).post("/api/handoffs/", DEAL, format="json").status_code == 201
    body = {**TAKEOVER, "deal_id": "D-ALICE", "external_id": "", "csm": ""}
    body.pop("csm")
    response = _api(bob).post("/api/handoffs/", body, format="json")
    assert response.status_code == 409
    assert response.json() == {"deal_id": ["This id cannot be used for this handoff."]}
    _unchanged(acme, alice)
    assert Handoff.objects.get().what_sold == "Enterprise plan"


def test_an_id_taken_in_another_book_answers_like_one_hidden_from_the_caller(acme, bob) -> None:
    """The answer names no account, owner or name: the same words whatever the other book holds."""
    other = AccountFactory(name="Secret Corp", external_id="SECRET")
    answers = {
        _api(bob).post("/api/handoffs/", {**DEAL, "deal_id": f"D-{i}", "external_id": eid}, format="json").content
        for i, eid in enumerate(("ACME", other.external_id))
    }
    assert len(answers) == 1
    assert b"Secret" not in answers.pop()


def test_a_csm_may_assign_only_themselves(acme, alice, bob) -> None:
    response = _api(bob).post("/api/handoffs/", {**DEAL, "external_id": "NEW-1", "csm": "alice"}, format="json")
    assert response.status_code == 409
    # alice reads as a name nobody has: the same answer as for "nobody".
    nobody = _api(bob).post("/api/handoffs/", {**DEAL, "external_id": "NEW-1", "csm": "nobody"}, format="json")
    assert response.json()["csm"][0].replace("alice", "nobody") == nobody.json()["csm"][0]
    ok = _api(bob).post("/api/handoffs/", {**DEAL, "external_id": "NEW-1", "csm": "bob"}, format="json")
    assert ok.status_code == 201
    assert Account.objects.get(external_id="NEW-1").owner == bob


def test_a_csm_may_re_send_a_handoff_for_their_own_account(acme, alice) -> None:
    assert _api(alice).post("/api/handoffs/", DEAL, format="json").status_code == 201
    assert _api(alice).post("/api/handoffs/", {**DEAL, "what_sold": "More"}, format="json").status_code == 200
    assert Handoff.objects.get().what_sold == "More"


def test_a_manager_assigns_within_their_team_only(acme, carol, alice, bob) -> None:
    outsider = UserFactory(username="olga")
    moved = _api(carol).post("/api/handoffs/", {**DEAL, "csm": "bob"}, format="json")
    assert moved.status_code == 201
    acme.refresh_from_db()
    assert acme.owner == bob
    outside = _api(carol).post("/api/handoffs/", {**DEAL, "deal_id": "D-2", "csm": outsider.username}, format="json")
    assert outside.status_code == 409
    assert "csm" in outside.json()
    stranger = AccountFactory(external_id="FAR", owner=outsider)
    far = _api(carol).post("/api/handoffs/", {**DEAL, "deal_id": "D-3", "external_id": "FAR"}, format="json")
    assert far.json() == {"external_id": ["This id cannot be used for this handoff."]}
    stranger.refresh_from_db()
    assert stranger.owner == outsider


def test_an_admin_token_assigns_anyone(acme, admin_user, bob) -> None:
    from tests.factories import api_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(admin_user)}")
    assert client.post("/api/handoffs/", {**DEAL, "csm": "bob"}, format="json").status_code == 201
    acme.refresh_from_db()
    assert acme.owner == bob


def test_the_form_refuses_the_same_takeover(client, acme, alice, bob) -> None:
    client.force_login(bob)
    form = {"deal_id": "D-BOB", "account_name": "Renamed", "external_id": "ACME", "what_sold": "x"}
    response = client.post("/playbooks/handoff/", form)
    assert response.status_code == 200
    assert "This id cannot be used for this handoff." in response.content.decode()
    as_alice = client.post("/playbooks/handoff/", {**form, "external_id": "NEW-2", "csm": alice.pk})
    assert as_alice.status_code == 200
    assert "Select a valid choice" in as_alice.content.decode()
    _unchanged(acme, alice)
    assert not Account.objects.filter(external_id="NEW-2").exists()


def test_the_form_refuses_another_books_deal_id(client, acme, alice, bob) -> None:
    assert _api(alice).post("/api/handoffs/", DEAL, format="json").status_code == 201
    client.force_login(bob)
    form = {"deal_id": "D-ALICE", "account_name": "Renamed", "what_sold": "x"}
    assert "This id cannot be used for this handoff." in client.post("/playbooks/handoff/", form).content.decode()
    _unchanged(acme, alice)


def test_account_create_does_not_say_an_external_id_exists(acme, bob) -> None:
    response = _api(bob).post("/api/accounts/", {"name": "Copy", "external_id": "ACME"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"external_id": ["This id cannot be used."]}
    assert "exists" not in response.content.decode()
    assert Account.objects.filter(external_id="ACME").get().name == acme.name == "Acme"
