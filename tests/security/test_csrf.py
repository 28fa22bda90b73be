"""Every form and every session-authenticated API write needs the CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.routes import all_routes, url_for

pytestmark = pytest.mark.django_db

API_ROUTES = [route for route in all_routes() if route.is_api and route.object_kwargs == []]


def test_signing_in_without_the_csrf_token_is_refused(alice) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "alice", "password": "s3cret-pass-word"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_signing_in_with_the_token_from_the_form_works(alice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("login"), {"username": "alice", "password": "s3cret-pass-word", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_signing_out_without_the_token_is_refused(alice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("logout")).status_code == 403
    assert client.session["_auth_user_id"] == str(alice.pk)


@pytest.mark.parametrize("route", API_ROUTES, ids=[route.ident for route in API_ROUTES])
def test_a_session_api_write_without_the_token_is_refused(route, alice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(url_for(route, {}), data="{}", content_type="application/json")
    assert response.status_code == 403


def test_a_token_authenticated_api_call_needs_no_csrf_token(alice) -> None:
    from tests.factories import api_token

    token = api_token(alice)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/", data="{}", content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 405
