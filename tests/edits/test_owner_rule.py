"""Who may own an account is one rule (accounts.services.assignable_owners), asked by every door."""

import pytest

from accounts.models import Account
from playbooks import services as playbooks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider():
    """An active CSM in no team of carol's."""
    from django.contrib.auth.models import Group

    from csm import roles

    user = UserFactory(username="olga")
    user.groups.add(Group.objects.get(name=roles.CSM))
    return user


def test_a_manager_cannot_give_an_account_outside_her_team_by_any_door(client, api, carol, acme, outsider) -> None:
    from imports import services as imports

    action = api(carol).post(f"/api/accounts/{acme.pk}/assign-owner/", {"owner": "olga"}, format="json")
    created = api(carol).post("/api/accounts/", {"name": "Wayne", "external_id": "WAY", "owner": "olga"}, format="json")
    client.force_login(carol)
    page = client.post(
        f"/accounts/{acme.pk}/edit/",
        {"name": "Acme", "segment": "smb", "lifecycle_stage": "adoption", "owner": outsider.pk},
    )
    job = imports.dry_run_import(
        kind="accounts", file_name="a.csv", content="external_id,name,owner\nW2,W,olga\n", user=carol
    )
    assert action.status_code == 409
    assert "owner" in action.json()
    assert created.status_code == 409
    assert page.status_code in (200, 400)
    assert job.errors
    assert job.errors[0]["field"] == "owner"
    assert Account.objects.get(pk=acme.pk).owner.username == "alice"
    assert not Account.objects.filter(external_id="WAY").exists()


def test_the_handoff_and_the_account_doors_offer_the_same_people(carol, alice, bob, rita, admin_user, outsider) -> None:
    from accounts import services as accounts

    for user in (carol, alice, rita, admin_user, None):
        assert set(playbooks.assignable_csms(user)) == set(accounts.assignable_owners(user))
    assert outsider not in set(accounts.assignable_owners(carol))
    assert {alice, bob, carol} <= set(accounts.assignable_owners(carol))
    assert set(accounts.assignable_owners(alice)) == {alice}
    assert not accounts.assignable_owners(rita).exists()


def test_a_manager_cannot_give_an_account_to_an_inactive_team_member(api, carol, bob, acme) -> None:
    bob.is_active = False
    bob.save()
    response = api(carol).post(f"/api/accounts/{acme.pk}/assign-owner/", {"owner": "bob"}, format="json")
    assert response.status_code == 409
    assert Account.objects.get(pk=acme.pk).owner.username == "alice"
