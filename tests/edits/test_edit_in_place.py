"""Contacts, the account and the success plan are edited on their pages, through the services,
audited; read-only users see no forms and get 403; another book's records are 404."""

from datetime import date

import pytest

from accounts.models import Contact
from playbooks import services as playbook_services
from playbooks.models import Milestone, Objective
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_csm_adds_a_contact_with_roles_and_it_is_audited(client, alice, acme) -> None:
    client.force_login(alice)
    response = client.post(
        f"/accounts/{acme.pk}/contacts/",
        {"name": "Nina New", "email": "nina@acme.test", "phone": "+1 555 0100", "is_billing": "on", "is_primary": "on"},
        follow=True,
    )
    nina = Contact.objects.get(name="Nina New")
    assert (nina.email, nina.phone, nina.is_billing, nina.is_primary) == ("nina@acme.test", "+1 555 0100", True, True)
    # One primary contact per account: Dana is not the primary any more.
    assert list(acme.contacts.filter(is_primary=True).values_list("name", flat=True)) == ["Nina New"]
    assert "Nina New added." in response.content.decode()
    assert nina.history.get().history_user == alice


def test_the_add_contact_form_opens_in_place_with_htmx(client, alice, acme) -> None:
    client.force_login(alice)
    html = client.get(f"/accounts/{acme.pk}/?add_contact=1&role=is_renewal", **HTMX).content.decode()
    assert 'id="contact-form"' in html
    assert 'name="is_renewal" id="id_is_renewal" checked' in html


def test_a_csm_edits_a_contacts_roles_and_opt_out(client, alice, acme) -> None:
    chad = Contact.objects.get(email="champ@acme.test")
    client.force_login(alice)
    page = client.get(f"/accounts/{acme.pk}/?edit_contact={chad.pk}").content.decode()
    assert f'action="/contacts/{chad.pk}/"' in page
    response = client.post(
        f"/contacts/{chad.pk}/",
        {"name": "Chad Champion", "email": "champ@acme.test", "is_renewal": "on", "email_opt_out": "on"},
    )
    assert response.status_code == 302
    chad.refresh_from_db()
    assert (chad.is_renewal, chad.is_champion, chad.email_opt_out) == (True, False, True)


def test_read_only_users_see_no_edit_forms_and_get_403(client, rita, acme) -> None:
    chad = Contact.objects.get(email="champ@acme.test")
    client.force_login(rita)
    html = client.get(f"/accounts/{acme.pk}/?add_contact=1&edit_account=1").content.decode()
    assert "<form" not in html.split('id="account-head"')[1].split("</header>")[0]
    assert 'id="contact-form"' not in html
    assert "Log a touchpoint" not in html
    assert "Add a contact" not in html
    attempts = [
        client.post(f"/accounts/{acme.pk}/contacts/", {"name": "X"}),
        client.post(f"/contacts/{chad.pk}/", {"name": "X"}),
        client.post(f"/accounts/{acme.pk}/edit/", {"name": "X", "segment": "smb", "lifecycle_stage": "adoption"}),
        client.post(f"/contacts/{chad.pk}/successor/", {}),
    ]
    assert [r.status_code for r in attempts] == [403] * 4
    assert not Contact.objects.filter(name="X").exists()


def test_bob_gets_404_on_alices_contacts_and_account(client, bob, acme) -> None:
    chad = Contact.objects.get(email="champ@acme.test")
    client.force_login(bob)
    attempts = [
        client.post(f"/accounts/{acme.pk}/contacts/", {"name": "Spy"}),
        client.post(f"/contacts/{chad.pk}/", {"name": "Spy"}),
        client.post(f"/accounts/{acme.pk}/edit/", {"name": "Spy", "segment": "smb", "lifecycle_stage": "adoption"}),
        client.post(f"/contacts/{chad.pk}/successor/", {}),
        client.post(f"/contacts/{chad.pk}/left/", {"left_on": "2026-01-01"}),
    ]
    assert [r.status_code for r in attempts] == [404] * 5
    chad.refresh_from_db()
    assert chad.name == "Chad Champion"


def test_the_empty_contacts_state_does_not_send_a_csm_to_admin(client, alice) -> None:
    account = AccountFactory(owner=alice)
    client.force_login(alice)
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "No contacts yet." in html
    assert "in admin" not in html


def test_a_csm_edits_program_segment_and_stage_but_the_form_has_no_owner(client, alice, acme) -> None:
    client.force_login(alice)
    html = client.get(f"/accounts/{acme.pk}/?edit_account=1").content.decode()
    assert 'name="lifecycle_stage"' in html
    assert 'name="owner"' not in html
    client.post(
        f"/accounts/{acme.pk}/edit/", {"name": "Acme Corp", "segment": "mid_market", "lifecycle_stage": "mature"}
    )
    acme.refresh_from_db()
    assert (acme.name, acme.segment, acme.lifecycle_stage, acme.owner) == ("Acme Corp", "mid_market", "mature", alice)


# --- Success plan -------------------------------------------------------------------------------


def test_add_objective_answers_and_the_objective_is_listed(client, alice, acme) -> None:
    client.force_login(alice)
    response = client.post(
        f"/playbooks/accounts/{acme.pk}/success-plan/",
        {"objective-title": "Roll out to the EU team", "objective-description": ""},
    )
    assert response.status_code == 302
    page = client.get(f"/playbooks/accounts/{acme.pk}/success-plan/").content.decode()
    assert "Roll out to the EU team" in page


def test_objectives_and_milestones_are_edited_and_deleted(client, alice, acme) -> None:
    objective = playbook_services.add_objective(acme, title="Adoption")
    milestone = playbook_services.add_milestone(objective, title="50 users", due_on=date(2026, 6, 1))
    client.force_login(alice)
    assert client.get(f"/playbooks/objectives/{objective.pk}/edit/").status_code == 200
    client.post(f"/playbooks/objectives/{objective.pk}/edit/", {"title": "Broad adoption", "description": "All teams"})
    client.post(
        f"/playbooks/milestones/{milestone.pk}/edit/",
        {"title": "80 users", "metric": "weekly users", "target": "80", "due_on": "2026-07-01"},
    )
    objective.refresh_from_db()
    milestone.refresh_from_db()
    assert (objective.title, objective.description) == ("Broad adoption", "All teams")
    assert (milestone.title, milestone.target, milestone.due_on) == ("80 users", 80, date(2026, 7, 1))
    client.post(f"/playbooks/milestones/{milestone.pk}/delete/")
    assert not Milestone.objects.exists()
    client.post(f"/playbooks/objectives/{objective.pk}/delete/")
    assert not Objective.objects.exists()
    assert Objective.history.filter(history_type="-").get().history_user == alice


def test_success_plan_edits_are_404_for_bob_and_403_for_read_only(client, bob, rita, acme) -> None:
    objective = playbook_services.add_objective(acme, title="Adoption")
    milestone = playbook_services.add_milestone(objective, title="50 users", due_on=date(2026, 6, 1))
    urls = [
        f"/playbooks/objectives/{objective.pk}/edit/",
        f"/playbooks/objectives/{objective.pk}/delete/",
        f"/playbooks/milestones/{milestone.pk}/edit/",
        f"/playbooks/milestones/{milestone.pk}/delete/",
        f"/playbooks/accounts/{acme.pk}/success-plan/",
    ]
    client.force_login(bob)
    assert [client.post(url, {"title": "Mine"}).status_code for url in urls] == [404] * 5
    client.force_login(rita)
    assert [client.post(url, {"title": "Mine", "objective-title": "Mine"}).status_code for url in urls] == [403] * 5
    assert list(Objective.objects.values_list("title", flat=True)) == ["Adoption"]
    assert Milestone.objects.count() == 1
