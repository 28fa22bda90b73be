"""Single sign-on end to end in Chromium: the SSO button, the provider's sign-in page, Today with
the mapped role, and sign-out that ends the provider's session too."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from csm import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loopback_only(page):
    """The provider's development pages load a web font: nothing leaves this machine."""

    def route(route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            route.abort()

    page.context.route("**/*", route)
    return page


def test_a_manager_signs_in_with_sso_lands_on_the_team_and_signs_out(loopback_only, sso, live_server) -> None:
    page = loopback_only
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with SSO").click()

    # The provider's own sign-in page (oidc-provider's devInteractions).
    page.wait_for_url(f"{sso.issuer}/interaction/**")
    page.fill("input[name=login]", "mia")
    page.fill("input[name=password]", "any")
    page.get_by_role("button", name="Sign-in").click()

    # Back on csm: Today, as a manager (the team's morning), with the role in the header.
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Team")).to_have_attribute("aria-current", "page")
    expect(page.locator(".usermenu .role")).to_have_text("Manager")
    expect(page.locator(".usermenu .who")).to_contain_text("Mia Lead")
    assert roles.role_of(User.objects.get(username="mia")) == roles.MANAGER

    # Sign out: csm's session ends, then the provider asks to end its own.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(rf"^{re.escape(sso.issuer)}/session/end.*"))
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto("/")
    page.wait_for_url(re.compile(rf"^{re.escape(live_server.url)}/login/\?next=/$"))

    # The provider's session is over too: SSO asks for the sign-in again.
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso.issuer}/interaction/**")
    expect(page.locator("input[name=login]")).to_be_visible()
