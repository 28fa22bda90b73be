"""Production mode: secure cookies, HSTS and HTTPS, as a real process starts it."""

import json
import os
import subprocess
import sys

from django.conf import settings

GOOD_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# collectstatic has not run here; the manifest storage is not what this probe is about.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
response = Client().get("/login/", secure=True, HTTP_HOST="csm.example.com")
plain = Client().get("/login/", HTTP_HOST="csm.example.com")
print(json.dumps({
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts_header": response.headers.get("Strict-Transport-Security", ""),
    "csrf_cookie": str(response.cookies.get("csrftoken", "")),
    "status": response.status_code,
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "password_hasher": settings.PASSWORD_HASHERS[0],
}))
"""


def probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS"}}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "csm.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_and_secure_cookies_and_redirects_plain_http() -> None:
    seen = probe(DJANGO_DEBUG="0", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="csm.example.com")
    assert seen["session_cookie_secure"] is True
    assert seen["csrf_cookie_secure"] is True
    assert seen["session_cookie_httponly"] is True
    assert seen["hsts_seconds"] >= 60 * 60 * 24 * 365
    assert seen["status"] == 200
    assert "max-age=31536000" in seen["hsts_header"]
    assert "includeSubDomains" in seen["hsts_header"]
    assert "secure" in seen["csrf_cookie"].lower()
    assert seen["plain_status"] == 301
    assert seen["plain_location"].startswith("https://csm.example.com/login/")
    # The tests hash with MD5 for speed (tests/conftest.py); a real process keeps a strong, slow hasher.
    assert seen["password_hasher"].rsplit(".", 1)[-1] in {"PBKDF2PasswordHasher", "Argon2PasswordHasher"}


def test_development_mode_keeps_plain_http_working() -> None:
    seen = probe(DJANGO_DEBUG="1", ALLOWED_HOSTS="csm.example.com")
    assert seen["session_cookie_secure"] is False
    assert seen["hsts_header"] == ""
    assert seen["plain_status"] == 200
