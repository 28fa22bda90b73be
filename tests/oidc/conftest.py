"""A real OpenID Connect provider on loopback (panva's oidc-provider, tests/oidc/provider.mjs).

``oidc_provider`` starts it once per session on a free port and waits for its discovery document;
``sso`` turns csm's single sign-on on against it. ``sign_in_at_provider`` walks the provider's own
sign-in pages over HTTP (what a browser does, without one), for the tests that use Django's client.
"""

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.browser.conftest import browser, page  # noqa: F401  (the browser test's fixtures)

HERE = Path(__file__).resolve().parent
CLIENT_ID = "csm-test"
CLIENT_SECRET = "csm-test-client-secret-not-for-production"
# The people the provider knows, with the claims it gives; the role claim is "groups".
ACCOUNTS = {
    "mia": {"email": "mia@corp.test", "email_verified": True, "given_name": "Mia", "family_name": "Lead",
            "preferred_username": "mia", "groups": ["everyone", "csm-managers"]},
    "cass": {"email": "cass@corp.test", "email_verified": True, "given_name": "Cass", "family_name": "Book",
             "preferred_username": "cass", "groups": ["everyone", "csm-users"]},
    "ada": {"email": "ada@corp.test", "email_verified": True, "given_name": "Ada", "family_name": "Root",
            "preferred_username": "ada", "groups": ["csm-users", "csm-admins"]},
    "nora": {"email": "nora@corp.test", "email_verified": True, "given_name": "Nora", "family_name": "Nobody",
             "preferred_username": "nora", "groups": ["everyone"]},
}  # fmt: skip
ROLE_MAP = {"csm-admins": "Admin", "csm-managers": "Manager", "csm-users": "CSM", "auditors": "Read-only"}


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen

    def discovery(self) -> dict:
        return requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).json()


def _start(redirect_bases: list[str]) -> Provider:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("The test OIDC provider needs node and its packages: cd tests/oidc && npm ci (.ci/run does).")
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{base}/oidc/callback/" for base in redirect_bases],
        "post_logout_redirect_uris": [f"{base}/login/" for base in redirect_bases],
    }
    env = {"PATH": "/usr/bin:/bin", "OIDC_TEST_CLIENT": json.dumps(client), "OIDC_TEST_ACCOUNTS": json.dumps(ACCOUNTS)}
    command = [node, str(HERE / "provider.mjs")]
    process = subprocess.Popen(command, cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("listening "):
        process.kill()
        pytest.fail(f"The test OIDC provider did not start (said {line!r}).")
    provider = Provider(issuer=line.split()[1], process=process)
    deadline = time.monotonic() + 20
    while True:  # listening is not yet serving: wait for the discovery document itself
        try:
            if provider.discovery().get("issuer") == provider.issuer:
                return provider
        except (requests.RequestException, ValueError):
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("The test OIDC provider never served its discovery document.")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def oidc_provider(live_server) -> Iterator[Provider]:
    # Django's test client calls itself testserver; the browser test uses the live server.
    provider = _start(["http://testserver", live_server.url])
    yield provider
    provider.process.terminate()
    provider.process.wait(timeout=10)


@pytest.fixture
def sso(settings, oidc_provider) -> Provider:
    """csm's single sign-on on, against the loopback provider (what the environment would set)."""
    from csm import sso as csm_sso

    csm_sso._discovered.clear()
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    policy = json.loads(json.dumps(settings.CONTENT_SECURITY_POLICY))
    policy["DIRECTIVES"]["form-action"].append(oidc_provider.issuer)
    settings.CONTENT_SECURITY_POLICY = policy
    return oidc_provider


def sign_in_at_provider(authorize_url: str, login: str, *, back_to: str = "http://testserver/") -> str:
    """Follow the provider's pages from the authorization request to the redirect back to csm,
    signing in as ``login`` on its devInteractions form; returns the callback URL."""
    session = requests.Session()
    url, response = authorize_url, session.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(10):
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(back_to):
                return url
            response = session.get(url, allow_redirects=False, timeout=10)
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert response.status_code == 200, response.text[:500]
        assert form, f"no sign-in form at {urlsplit(url).path}: {response.text[:300]}"
        url = urljoin(url, form.group(1))
        fields = {"prompt": "login", "login": login, "password": "any"}
        response = session.post(url, data=fields, allow_redirects=False, timeout=10)
    raise AssertionError(f"the provider never sent the browser back to csm (last at {url})")
