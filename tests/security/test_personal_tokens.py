"""Personal API tokens (hole 4): each user creates, sees and revokes their own; only a digest is kept."""

import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from csm import tokens
from csm.models import ApiToken

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_user_creates_a_token_on_their_page_sees_it_once_and_it_is_stored_only_as_a_digest(alice, acme) -> None:
    page = _signed_in(alice)
    response = page.post("/tokens/", {"name": "CRM sync", "expires_on": ""})
    assert response.status_code == 200
    raw = re.search(r'data-testid="new-token">([^<]+)<', response.content.decode()).group(1)
    assert raw.startswith("csm_")
    row = ApiToken.objects.get(user=alice, name="CRM sync")
    assert row.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {row.digest, row.prefix}
    assert raw.split("_")[1] == row.prefix
    # Shown once: the list afterwards names it, never its secret.
    listing = page.get("/tokens/").content.decode()
    assert "CRM sync" in listing
    assert raw not in listing

    answer = _api(raw).get("/api/accounts/")
    assert answer.status_code == 200
    assert [a["external_id"] for a in answer.json()["results"]] == [acme.external_id]


def test_last_use_is_recorded_at_most_once_a_minute(alice) -> None:
    _, raw = tokens.create_token(user=alice, name="nightly", expires_on=None, now=NOW)
    with time_machine.travel(NOW, tick=False):
        assert _api(raw).get("/api/accounts/").status_code == 200
    row = ApiToken.objects.get(name="nightly")
    assert row.last_used_at == NOW
    assert row.last_used_ip == "127.0.0.1"
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        _api(raw).get("/api/accounts/")
    row.refresh_from_db()
    assert row.last_used_at == NOW
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        _api(raw).get("/api/accounts/")
    row.refresh_from_db()
    assert row.last_used_at == NOW + timedelta(minutes=2)


def test_a_token_works_through_its_expiry_day_and_not_after(alice) -> None:
    _, raw = tokens.create_token(user=alice, name="trial", expires_on=date(2026, 11, 10), now=NOW)
    with time_machine.travel(datetime(2026, 11, 10, 22, 0, tzinfo=UTC), tick=False):
        assert _api(raw).get("/api/accounts/").status_code == 200
    with time_machine.travel(datetime(2026, 11, 12, 9, 0, tzinfo=UTC), tick=False):
        assert _api(raw).get("/api/accounts/").status_code == 401


def test_a_revoked_token_is_refused_and_only_its_owner_can_revoke_it_from_the_page(alice, bob) -> None:
    token, raw = tokens.create_token(user=alice, name="old", expires_on=None, now=NOW)
    assert _signed_in(bob).post(f"/tokens/{token.pk}/revoke/").status_code == 404
    assert _api(raw).get("/api/accounts/").status_code == 200
    assert _signed_in(alice).post(f"/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _api(raw).get("/api/accounts/").status_code == 401


def test_a_tampered_token_with_a_real_prefix_is_refused(alice) -> None:
    _, raw = tokens.create_token(user=alice, name="real", expires_on=None, now=NOW)
    assert _api(raw[:-2] + ("AA" if not raw.endswith("AA") else "BB")).get("/api/accounts/").status_code == 401
    assert _api("csm_nothex_x").get("/api/accounts/").status_code == 401


def test_a_deactivated_users_tokens_stop_working(alice) -> None:
    _, raw = tokens.create_token(user=alice, name="ci", expires_on=None, now=NOW)
    alice.is_active = False
    alice.save()
    assert _api(raw).get("/api/accounts/").status_code == 401


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x\x00y"}, "name"),
        ({"name": "ok", "expires_on": "2020-01-01"}, "expires_on"),
        ({"name": "ok", "expires_on": "2999-01-01"}, "expires_on"),
        ({"name": "ok", "expires_on": "not a date"}, "expires_on"),
    ],
)
def test_bad_token_input_is_a_form_error_and_creates_nothing(alice, form, field) -> None:
    response = _signed_in(alice).post("/tokens/", form)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_a_second_token_with_the_same_name_is_refused(alice) -> None:
    tokens.create_token(user=alice, name="sync", expires_on=None, now=NOW)
    response = _signed_in(alice).post("/tokens/", {"name": "sync"})
    assert response.status_code == 400
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_a_read_only_user_can_hold_a_token_and_only_read_with_it(rita, acme) -> None:
    _, raw = tokens.create_token(user=rita, name="report", expires_on=None, now=NOW)
    client = _api(raw)
    assert client.get("/api/accounts/").status_code == 200
    assert client.post("/api/accounts/", {"external_id": "X-1", "name": "New"}, format="json").status_code == 403


def test_the_command_prints_a_token_for_an_integration_user(alice, capsys) -> None:
    call_command("create_api_token", "alice", "--name", "warehouse")
    raw = capsys.readouterr().out.strip()
    assert _api(raw).get("/api/accounts/").status_code == 200
    assert ApiToken.objects.get(name="warehouse").digest == hashlib.sha256(raw.encode()).hexdigest()
