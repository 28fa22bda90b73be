"""Each write path answers the same bad input the same way on the page and in the API: the
rule lives in one service (accounts/services.py), the form and the serializer only parse."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account, Contact, Touchpoint

pytestmark = pytest.mark.django_db

FUTURE_ERROR = "A touchpoint cannot be in the future."


def test_a_future_touchpoint_is_refused_by_the_page_and_the_api_alike(client, api, alice, acme) -> None:
    future = timezone.localtime() + timedelta(days=365)
    client.force_login(alice)
    page = client.post(
        f"/accounts/{acme.pk}/touchpoints/",
        {"kind": "call", "outcome": "neutral", "occurred_at": future.strftime("%Y-%m-%dT%H:%M")},
        HTTP_HX_REQUEST="true",
    )
    response = api(alice).post(
        "/api/touchpoints/", {"account": acme.pk, "occurred_at": future.isoformat()}, format="json"
    )
    assert page.status_code == 200
    assert FUTURE_ERROR in page.content.decode()
    assert response.status_code == 400
    assert response.json() == {"occurred_at": [FUTURE_ERROR]}
    assert not Touchpoint.objects.exists()


def test_a_touchpoint_in_the_past_is_logged_through_the_api(api, alice, acme) -> None:
    when = timezone.now() - timedelta(days=2)
    response = api(alice).post("/api/touchpoints/", {"account": acme.pk, "occurred_at": when.isoformat()})
    assert response.status_code == 201, response.content
    acme.refresh_from_db()
    assert acme.last_touch_at == Touchpoint.objects.get().occurred_at


def test_a_contact_with_a_bad_email_is_refused_by_the_page_and_the_api_alike(client, api, alice, acme) -> None:
    client.force_login(alice)
    page = client.post(f"/accounts/{acme.pk}/contacts/", {"name": "Nina New", "email": "not-an-email"})
    response = api(alice).post("/api/contacts/", {"account": acme.pk, "name": "Nina New", "email": "not-an-email"})
    assert page.status_code == 200
    assert "Enter a valid email address." in page.content.decode()
    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    assert not Contact.objects.filter(name="Nina New").exists()


def test_a_blank_account_name_is_refused_by_the_page_and_the_api_alike(client, api, alice, acme) -> None:
    client.force_login(alice)
    page = client.post(f"/accounts/{acme.pk}/edit/", {"name": " ", "segment": "smb", "lifecycle_stage": "adoption"})
    response = api(alice).patch(f"/api/accounts/{acme.pk}/", {"name": ""}, format="json")
    assert page.status_code == 200
    assert "This field cannot be blank." in page.content.decode()
    assert response.status_code == 400
    assert response.json() == {"name": ["This field cannot be blank."]}
    assert Account.objects.get(pk=acme.pk).name == "Acme"


def test_giving_an_account_to_someone_else_is_refused_to_a_csm_everywhere(client, api, alice, bob, acme) -> None:
    from imports import services as imports

    client.force_login(alice)
    page = client.post(
        f"/accounts/{acme.pk}/edit/", {"name": "Acme", "segment": "smb", "lifecycle_stage": "adoption", "owner": bob.pk}
    )
    action = api(alice).post(f"/api/accounts/{acme.pk}/assign-owner/", {"owner": "bob"})
    patch = api(alice).patch(f"/api/accounts/{acme.pk}/", {"owner": "bob"}, format="json")
    created = api(alice).post("/api/accounts/", {"name": "Wayne", "external_id": "WAY", "owner": "bob"})
    job = imports.dry_run_import(
        kind="accounts", file_name="a.csv", content="external_id,name,owner\nW2,W,bob\n", user=alice
    )
    # The CSM's form has no owner field, so the page saves the rest and keeps the owner.
    assert page.status_code == 302
    assert action.status_code == 403
    assert patch.status_code == 200
    assert patch.json()["owner"] == "alice"
    assert created.status_code == 400
    assert created.json() == {"owner": ["You can only assign accounts to yourself."]}
    assert job.errors == [{"row": 2, "field": "owner", "error": "You can only assign accounts to yourself."}]
    assert Account.objects.get(pk=acme.pk).owner == alice


def test_a_manager_reassigns_an_account_on_the_page_and_through_the_api(client, api, alice, bob, carol, acme) -> None:
    client.force_login(carol)
    page = client.post(
        f"/accounts/{acme.pk}/edit/",
        {"name": "Acme", "segment": "enterprise", "lifecycle_stage": "adoption", "owner": bob.pk},
    )
    assert page.status_code == 302
    acme.refresh_from_db()
    assert (acme.owner, acme.segment) == (bob, "enterprise")
    assert acme.history.first().history_user == carol  # audited
    response = api(carol).post(f"/api/accounts/{acme.pk}/assign-owner/", {"owner": "alice"})
    assert response.status_code == 200, response.content
    assert Account.objects.get(pk=acme.pk).owner == alice


def test_patching_left_on_and_successor_changes_nothing(api, alice, acme) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    chad = Contact.objects.get(email="champ@acme.test")
    response = api(alice).patch(
        f"/api/contacts/{dana.pk}/", {"left_on": "2026-01-05", "successor": chad.pk}, format="json"
    )
    assert response.status_code == 200
    dana.refresh_from_db()
    assert (dana.left_on, dana.successor) == (None, None)


def test_the_api_mark_left_action_hands_the_roles_to_the_successor(
    api, alice, acme, django_capture_on_commit_callbacks
) -> None:
    rene = Contact.objects.get(email="renewal@acme.test")
    chad = Contact.objects.get(email="champ@acme.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(alice).post(
            f"/api/contacts/{rene.pk}/mark-left/", {"left_on": "2026-01-05", "successor": chad.pk}, format="json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["left_on"] == "2026-01-05"
    chad.refresh_from_db()
    assert chad.is_renewal
    assert chad.is_champion


def test_mark_left_twice_is_a_400_with_the_field(api, alice, acme) -> None:
    rene = Contact.objects.get(email="renewal@acme.test")
    api(alice).post(f"/api/contacts/{rene.pk}/mark-left/", {"left_on": "2026-01-05"})
    again = api(alice).post(f"/api/contacts/{rene.pk}/mark-left/", {"left_on": "2026-01-06"})
    assert again.status_code == 400
    assert again.json() == {"left_on": ["This contact is already marked as having left."]}


def test_bob_cannot_mark_alices_contact_as_left(api, bob, acme) -> None:
    rene = Contact.objects.get(email="renewal@acme.test")
    assert api(bob).post(f"/api/contacts/{rene.pk}/mark-left/", {"left_on": "2026-01-05"}).status_code == 404


def test_the_schema_documents_the_actions_request_bodies(api, alice) -> None:
    schema = api(alice).get("/api/schema/", {"format": "json"}).json()
    mark_left = schema["paths"]["/api/contacts/{id}/mark-left/"]["post"]
    assign = schema["paths"]["/api/accounts/{id}/assign-owner/"]["post"]
    assert mark_left["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/MarkLeftRequest")
    assert assign["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AssignOwnerRequest")
    contact = schema["components"]["schemas"]["Contact"]["properties"]
    assert contact["left_on"]["readOnly"]
    assert contact["successor"]["readOnly"]
