"""Single sign-on against a real OpenID Connect provider on loopback, through Django's client:
users made and updated from the claims, the refused case, 2FA left to the provider, sign-out."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice

from csm import roles
from csm.models import SSOIdentity
from tests.factories import UserFactory
from tests.oidc.conftest import CLIENT_ID, sign_in_at_provider

pytestmark = pytest.mark.django_db


def sso_sign_in(client, login: str, *, next_url: str = "/"):
    """Click "Sign in with SSO", sign in at the provider as ``login``, come back: the callback's answer."""
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302
    callback = sign_in_at_provider(start.url, login)
    return client.get(callback)


def test_a_manager_is_created_on_first_sign_in_with_the_role_of_the_claim(client, sso) -> None:
    response = sso_sign_in(client, "mia")
    assert response.status_code == 302
    assert response.url == "/"
    mia = User.objects.get(username="mia")
    assert (mia.first_name, mia.last_name, mia.email) == ("Mia", "Lead", "mia@corp.test")
    assert roles.role_of(mia) == roles.MANAGER
    assert not mia.has_usable_password()
    assert SSOIdentity.objects.get(user=mia).issuer == sso.issuer
    today = client.get("/")
    assert today.status_code == 200
    assert b"Manager" in today.content
    assert client.session["_auth_user_id"] == str(mia.pk)


def test_the_role_is_set_again_at_every_sign_in(client, settings, sso) -> None:
    sso_sign_in(client, "cass")
    cass = User.objects.get(username="cass")
    assert roles.role_of(cass) == roles.CSM
    client.post("/logout/")
    # The company moves the group "csm-users" to read-only: the next sign-in follows.
    settings.OIDC_ROLE_MAP = {**settings.OIDC_ROLE_MAP, "csm-users": roles.READ_ONLY}
    sso_sign_in(client, "cass")
    cass = User.objects.get(username="cass")
    assert roles.role_of(cass) == roles.READ_ONLY
    assert set(cass.groups.values_list("name", flat=True)) == {roles.READ_ONLY}
    assert SSOIdentity.objects.filter(user=cass).count() == 1


def test_a_person_whose_claims_map_to_no_role_is_refused_with_a_page(client, sso, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="csm.security"):
        response = sso_sign_in(client, "nora")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You are not signed in" in page
    assert "gave you no csm role" in page
    assert "“groups” claim" in page
    assert not User.objects.filter(username="nora").exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    events = [record.security for record in caplog.records if hasattr(record, "security")]
    refusals = [event for event in events if event["event"] == "sso.refused"]
    assert [event["status"] for event in refusals] == [403]
    assert "no csm role" in refusals[0]["reason"]


def test_an_existing_user_with_the_verified_address_is_linked_not_duplicated(client, sso) -> None:
    existing = UserFactory(username="mlead", email="MIA@corp.test", role=roles.CSM)
    sso_sign_in(client, "mia")
    assert User.objects.filter(email__iexact="mia@corp.test").count() == 1
    existing.refresh_from_db()
    assert roles.role_of(existing) == roles.MANAGER
    assert SSOIdentity.objects.get(user=existing).subject == "mia"
    # The password still works for a linked user (password sign-in is on by default).
    assert existing.has_usable_password()


def test_a_superuser_is_never_taken_over_by_address(client, sso) -> None:
    root = UserFactory(username="root", email="mia@corp.test", is_superuser=True, is_staff=True, role=roles.ADMIN)
    sso_sign_in(client, "mia")
    assert not SSOIdentity.objects.filter(user=root).exists()
    assert User.objects.get(username="mia").is_superuser is False


def test_a_deactivated_user_is_refused(client, sso) -> None:
    sso_sign_in(client, "cass")
    User.objects.filter(username="cass").update(is_active=False)
    client.post("/logout/")
    response = sso_sign_in(client, "cass")
    assert response.status_code == 403
    assert b"deactivated" in response.content


def test_a_sso_session_is_not_asked_for_csms_second_factor(client, sso) -> None:
    # mia once enrolled an authenticator for her password sign-in; the provider signs her in now.
    mia = UserFactory(username="mia", email="mia@corp.test", role=roles.MANAGER)
    TOTPDevice.objects.create(user=mia, name="phone", confirmed=True)
    response = sso_sign_in(client, "mia")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/accounts/").status_code == 200
    # Her password alone still is not enough: that path asks for the code.
    client.post("/logout/")
    answer = client.post("/login/", {"username": "mia", "password": "s3cret-pass-word"})
    assert answer.url == "/login/code/"
    assert client.get("/").status_code == 302


def test_an_sso_admin_reaches_django_admin_without_csms_code_and_loses_it_with_the_role(client, settings, sso) -> None:
    ada = UserFactory(username="ada", email="ada@corp.test", role=roles.CSM)
    TOTPDevice.objects.create(user=ada, name="phone", confirmed=True)
    sso_sign_in(client, "ada")
    ada.refresh_from_db()
    assert (roles.role_of(ada), ada.is_staff, ada.is_superuser) == (roles.ADMIN, True, False)
    assert client.get("/admin/").status_code == 200
    client.post("/logout/")
    settings.OIDC_ROLE_MAP = {key: value for key, value in settings.OIDC_ROLE_MAP.items() if key != "csm-admins"}
    sso_sign_in(client, "ada")
    ada = User.objects.get(pk=ada.pk)
    assert (roles.role_of(ada), ada.is_staff) == (roles.CSM, False)
    assert client.get("/admin/").status_code == 302


def test_signing_out_ends_the_session_and_the_providers(client, sso) -> None:
    sso_sign_in(client, "mia")
    id_token = client.session["oidc_id_token"]
    response = client.post("/logout/")
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == sso.discovery()["end_session_endpoint"]
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token]
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert client.get("/").status_code == 302


def test_the_provider_saying_no_is_a_page(client, sso) -> None:
    start = client.get("/oidc/authenticate/")
    state = parse_qs(urlsplit(start.url).query)["state"][0]
    denied = {"error": "access_denied", "error_description": "End-User aborted", "state": state}
    response = client.get("/oidc/callback/", denied)
    assert response.status_code == 403
    assert b"did not sign you in: End-User aborted" in response.content
    assert state not in client.session.get("oidc_states", {})


def test_a_forged_or_stale_callback_is_refused_without_a_500(client, sso) -> None:
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 403  # no sign-in started
    client.get("/oidc/authenticate/")
    response = client.get("/oidc/callback/", {"code": "x", "state": "not-the-one"})
    assert response.status_code == 400
    assert b"Start again" in response.content
    assert "_auth_user_id" not in client.session


def test_a_code_cannot_be_used_twice(client, sso) -> None:
    start = client.get("/oidc/authenticate/")
    callback = urlsplit(sign_in_at_provider(start.url, "mia"))
    assert client.get(callback.path, parse_qs(callback.query)).status_code == 302
    client.post("/logout/")
    # The same code again, under a state this browser did start: the provider refuses the code.
    state = parse_qs(urlsplit(client.get("/oidc/authenticate/").url).query)["state"][0]
    replay = client.get(callback.path, {**parse_qs(callback.query), "state": state})
    assert replay.status_code == 403
    assert b"did not accept this sign-in" in replay.content
    assert "_auth_user_id" not in client.session


def test_without_password_sign_in_only_the_sso_button_is_offered(client, settings, sso, alice) -> None:
    settings.PASSWORD_SIGN_IN = False
    page = client.get("/login/").content.decode()
    assert "Sign in with SSO" in page
    assert 'name="password"' not in page
    refused = client.post("/login/", {"username": "alice", "password": "s3cret-pass-word"})
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    assert client.get("/password/reset/").status_code == 404
    assert sso_sign_in(client, "mia").status_code == 302


def test_with_both_the_login_page_offers_sso_and_the_password_form(client, sso, alice) -> None:
    page = client.get("/login/?next=/accounts/").content.decode()
    assert 'href="/oidc/authenticate/?next=/accounts/"' in page
    assert 'name="password"' in page
    assert client.post("/login/", {"username": "alice", "password": "s3cret-pass-word"}).status_code == 302
