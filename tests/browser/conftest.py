"""Playwright drives Debian's headless Chromium against pytest-django's live server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.main_pages import seed_demo_book

CHROMIUM = Path(os.environ.get("CSM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
PASSWORD = "s3cret-pass-word"  # tests.factories.UserFactory's


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM}: apt-get install chromium (CI installs it).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while the browser is open; the
    # ORM calls the tests make around it are still plain synchronous code. Only for as long
    # as the browser lives: the rest of the suite keeps Django's async-safety check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    # A laptop screen: every page must work at this size.
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    def _sign_in(username: str) -> object:
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/")
        return page

    return _sign_in


# --- The main pages, on the demo book (tests/main_pages.py) ---------------------------------

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def demo_book(settings):
    return seed_demo_book(settings)


@pytest.fixture
def open_as(browser, live_server):
    """A signed-in page of the demo book at a viewport size: ``open_as("alice", PHONE)``."""
    from django.conf import settings as django_settings

    contexts = []

    def _open(username: str, viewport: dict) -> object:
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", django_settings.CSM_DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/")
        return page

    yield _open
    for context in contexts:
        context.close()


def visit(page, path: str) -> None:
    """Open a page and wait until htmx and the charts have drawn it."""
    response = page.goto(path)
    assert response is not None, path
    assert response.status == 200, f"{path} answered {response.status}"
    page.wait_for_load_state("networkidle")
