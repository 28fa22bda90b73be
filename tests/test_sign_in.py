import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_page_sends_a_stranger_to_the_login_page(client) -> None:
    response = client.get(reverse("front:account-list"))
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=")


def test_a_csm_signs_in_with_a_password_and_lands_on_today(client, alice, acme) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "s3cret-pass-word"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Good day, Alice" in response.content


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client, alice) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session(client, alice) -> None:
    client.force_login(alice)
    client.post(reverse("logout"))
    assert client.get("/").status_code == 302


def test_a_csm_cannot_open_another_csms_account_by_url(client, bob, acme) -> None:
    client.force_login(bob)
    assert client.get(reverse("front:account-detail", args=[acme.pk])).status_code == 404


def test_a_manager_sees_the_accounts_of_the_team(client, carol, acme, globex) -> None:
    client.force_login(carol)
    page = client.get(reverse("front:account-list")).content.decode()
    assert "Acme" in page
    assert "Globex" in page


def test_the_admin_is_for_staff_only(client, alice, admin_user) -> None:
    client.force_login(alice)
    assert client.get("/admin/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
