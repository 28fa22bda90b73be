"""The "primary contact left" rule fires however the contact leaves (page, API, import), and the
coverage and successor tasks link to the form that finishes them and close when it is saved."""

import pytest
from django.utils import timezone

from accounts.models import Contact
from imports import services as imports
from playbooks.models import Task
from renewals.models import Renewal
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db


def _successor_task(account) -> Task:
    return Task.objects.get(account=account, title="Find the successor")


def test_the_rule_fires_when_the_primary_leaves_on_the_page(
    client, alice, acme, successor_rule, django_capture_on_commit_callbacks
) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")  # primary and decision maker, not renewal
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/{dana.pk}/left/", {"left_on": timezone.localdate().isoformat()})
    dana.refresh_from_db()
    assert (dana.is_primary, dana.was_primary) == (False, True)
    assert _successor_task(acme).reason == "Dana Buyer left; find the successor"


def test_the_rule_fires_when_the_primary_leaves_through_the_api(
    api, alice, acme, successor_rule, django_capture_on_commit_callbacks
) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(alice).post(f"/api/contacts/{dana.pk}/mark-left/", {"left_on": timezone.localdate().isoformat()})
    assert response.status_code == 200, response.content
    assert _successor_task(acme).status == Task.Status.OPEN


def test_the_rule_fires_when_an_import_says_the_primary_left(
    alice, acme, successor_rule, django_capture_on_commit_callbacks
) -> None:
    day = timezone.localdate().isoformat()
    text = (
        "account_external_id,name,email,decision_maker,primary,left_on\n"
        f"ACME,Dana Buyer,buyer@acme.test,yes,yes,{day}\n"
    )
    job = imports.dry_run_import(kind="contacts", file_name="c.csv", content=text, user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        imports.run_import(job, user=alice, now=timezone.now())
    dana = Contact.objects.get(email="buyer@acme.test")
    assert (dana.left_on.isoformat(), dana.is_primary, dana.was_primary) == (day, False, True)
    assert _successor_task(acme).status == Task.Status.OPEN


def test_the_successor_task_links_to_the_form_and_naming_the_successor_closes_it(
    client, alice, acme, successor_rule, django_capture_on_commit_callbacks
) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    chad = Contact.objects.get(email="champ@acme.test")
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/{dana.pk}/left/", {"left_on": timezone.localdate().isoformat()})
    tasks_page = client.get("/playbooks/tasks/").content.decode()
    assert f'href="/accounts/{acme.pk}/?successor=1#contacts"' in tasks_page
    form = client.get(f"/accounts/{acme.pk}/?successor=1").content.decode()
    assert f'action="/contacts/{dana.pk}/successor/"' in form
    client.post(f"/contacts/{dana.pk}/successor/", {f"s{dana.pk}-successor": chad.pk})
    chad.refresh_from_db()
    assert (chad.is_primary, chad.is_decision_maker) == (True, True)
    assert _successor_task(acme).status == Task.Status.DONE


def test_a_new_contact_added_as_successor_closes_the_task(
    client, alice, acme, successor_rule, django_capture_on_commit_callbacks
) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/{dana.pk}/left/", {"left_on": timezone.localdate().isoformat()})
    client.post(
        f"/accounts/{acme.pk}/contacts/", {"name": "Sam Successor", "email": "sam@acme.test", "succeeds": dana.pk}
    )
    sam = Contact.objects.get(name="Sam Successor")
    dana.refresh_from_db()
    assert dana.successor == sam
    assert (sam.is_primary, sam.is_decision_maker) == (True, True)
    assert _successor_task(acme).status == Task.Status.DONE


def test_adding_a_second_renewal_contact_closes_the_coverage_task(client, bob, globex) -> None:
    renewal = Renewal.objects.create(
        contract=ContractFactory(account=globex), contact_coverage=Renewal.Coverage.SINGLE_CONTACT
    )
    task = Task.objects.create(
        account=globex,
        assignee=bob,
        title="Add a second renewal contact",
        key="renewal:single-contact:7",
        due_on=timezone.localdate(),
    )
    client.force_login(bob)
    tasks_page = client.get("/playbooks/tasks/").content.decode()
    link = f"/accounts/{globex.pk}/?add_contact=1&amp;role=is_renewal#contacts"
    assert link in tasks_page
    # A contact without an email receives no notice: the task stays open.
    client.post(f"/accounts/{globex.pk}/contacts/", {"name": "No Mail", "is_renewal": "on"})
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
    client.post(
        f"/accounts/{globex.pk}/contacts/", {"name": "Rita Renews", "email": "rr@globex.test", "is_renewal": "on"}
    )
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    renewal.refresh_from_db()
    assert renewal.contact_coverage == Renewal.Coverage.OK
