"""Security events are logged with time, user, address and request id (hole 7)."""

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from csm import tokens
from csm.security_log import JsonFormatter, ReadableFormatter
from tests.factories import api_token

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="csm.security")

    def _events(name: str | None = None) -> list[dict]:
        found = [r.security for r in caplog.records if r.name == "csm.security"]
        return [e for e in found if name is None or e["event"] == name]

    return _events


def test_a_sign_in_and_a_failed_one_are_logged_with_user_address_and_request_id(client, alice, events) -> None:
    client.post(reverse("login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    failed, succeeded = events("signin.failed"), events("signin.succeeded")
    assert failed == [
        {
            "event": "signin.failed",
            "user": "",
            "ip": "10.0.0.7",
            "request_id": failed[0]["request_id"],
            "username_tried": "alice",
        }
    ]
    assert len(failed[0]["request_id"]) == 32
    assert succeeded[0]["user"] == "alice"
    assert succeeded[0]["ip"] == "10.0.0.7"
    assert succeeded[0]["request_id"] != failed[0]["request_id"]


def test_the_request_id_is_returned_and_a_callers_sane_one_is_kept(client, alice) -> None:
    client.force_login(alice)
    assert len(client.get("/").headers["X-Request-ID"]) == 32
    assert client.get("/", HTTP_X_REQUEST_ID="abc-123-def").headers["X-Request-ID"] == "abc-123-def"
    assert client.get("/", HTTP_X_REQUEST_ID="<script>").headers["X-Request-ID"] != "<script>"


def test_a_lockout_is_logged(client, alice, events) -> None:
    for _ in range(5):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.8")
    locked = events("signin.locked_out")
    assert locked
    assert locked[0]["username_tried"] == "alice"
    assert locked[0]["ip"] == "10.0.0.8"


def test_second_factor_failure_and_success_are_logged(client, admin_user, events, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD})
    right = f"{totp(device.bin_key, device.step, device.t0, device.digits, 0):06d}"
    client.post(reverse("otp-verify"), {"token": "000000" if right != "000000" else "111111"})
    client.post(reverse("otp-verify"), {"token": right})
    assert [e["event"] for e in events() if e["event"].startswith(("2fa", "signin"))] == [
        "signin.second_factor_asked",
        "2fa.failed",
        "2fa.passed",
        "signin.succeeded",
    ]
    assert all(e["user"] == admin_user.username for e in events() if e["event"].startswith("2fa"))


def test_token_create_revoke_and_refused_use_are_logged(alice, events) -> None:
    from django.utils import timezone

    token, raw = tokens.create_token(user=alice, name="sync", expires_on=None, now=timezone.now())
    tokens.revoke_token(token=token, by=alice, now=timezone.now())
    client = APIClient(REMOTE_ADDR="10.0.0.9")
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/accounts/").status_code == 401
    assert events("token.created")[0]["token"] == token.prefix
    assert events("token.revoked")[0]["user"] == "alice"
    refused = events("token.refused")
    assert refused[0]["ip"] == "10.0.0.9"
    assert raw not in json.dumps(refused)


def test_permission_denials_are_logged_for_pages_and_the_api(alice, rita, acme, events) -> None:
    page = Client()
    page.force_login(rita)
    assert page.get("/admin/").status_code in (302, 403)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(rita)}")
    assert api.post("/api/accounts/", {"external_id": "N-1", "name": "N"}, format="json").status_code == 403
    denied = events("permission.denied")
    assert {"user": "rita", "path": "/api/accounts/"}.items() <= denied[-1].items()


def test_exports_are_logged(alice, acme, events) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/accounts/export.csv?q=acme")
    b"".join(response.streaming_content)
    export = events("export")
    assert export
    assert export[0]["export"] == "accounts"
    assert export[0]["user"] == "alice"


def test_production_lines_are_json_with_time_and_fields_and_development_lines_readable() -> None:
    record = logging.LogRecord("csm.security", logging.WARNING, __file__, 1, "signin.failed", None, None)
    record.security = {"event": "signin.failed", "user": "", "ip": "10.0.0.1", "request_id": "r1"}
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["event"] == "signin.failed"
    assert line["ip"] == "10.0.0.1"
    assert line["time"].endswith("+00:00")
    assert line["request_id"] == "r1"
    text = ReadableFormatter().format(record)
    assert "WARNING" in text
    assert "ip=10.0.0.1" in text
    assert "request_id=r1" in text


def test_production_writes_json_lines_and_development_readable_ones() -> None:
    """A real manage.py process logs a security event in each mode (stderr, the console handler)."""
    from tests.test_startup_settings import GOOD_KEY, manage

    code = "from csm.security_log import log_event; log_event('probe.event', user=None, detail='x')"
    production = manage("shell", "-c", code, DJANGO_DEBUG="0", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="csm.example.com")
    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert line["event"] == "probe.event"
    assert line["detail"] == "x"
    assert line["logger"] == "csm.security"
    development = manage("shell", "-c", code, DJANGO_DEBUG="1")
    last = development.stderr.strip().splitlines()[-1]
    assert "INFO" in last
    assert "probe.event" in last
    assert "detail=x" in last
    assert not last.startswith("{")
