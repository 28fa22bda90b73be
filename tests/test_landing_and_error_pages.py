"""Managers, admins and read-only users land on the team view; 403 and 404 pages are in the site style."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["carol", "admin_user", "rita"])
def test_team_viewers_land_on_the_team_view(client, request, alice, who) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get("/").context["scope"].team is True
    assert client.get("/?view=mine").context["scope"].team is False


def test_a_csm_lands_on_their_book(client, alice) -> None:
    client.force_login(alice)
    assert client.get("/").context["scope"].team is False


def test_403_and_404_pages_use_the_site_layout(client, rita, bob, acme) -> None:
    client.force_login(rita)
    forbidden = client.post("/playbooks/tasks/bulk/", {"action": "done", "ids": ["1"]})
    assert forbidden.status_code == 403
    assert b"You can't do that here" in forbidden.content
    assert b"Read-only users change nothing." in forbidden.content
    client.force_login(bob)
    missing = client.get(f"/accounts/{acme.pk}/")
    assert missing.status_code == 404
    assert b"Nothing here" in missing.content
    assert b"Back to Today" in missing.content
