"""Screenshots of the main pages for docs/screenshots/, from a running server with demo data.

    python manage.py seed_demo --accounts 300 && python manage.py runserver 127.0.0.1:8104
    python tests/browser/screenshots.py --base-url http://127.0.0.1:8104

Drives Debian's Chromium headless (never a downloaded browser) at a laptop's 1440x900.
"""

import argparse
import re
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
PASSWORD = "demo-pass-2026"


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    settle(page)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"wrote {OUT / name}.png")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8104")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    base = parser.parse_args().base_url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=parser.parse_args().chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        sign_in(page, base, "alice")
        shoot(page, "today")
        page.goto(f"{base}/accounts/")
        shoot(page, "accounts")
        # The account 360 of an at-risk account when Today lists one, else the first account.
        page.goto(f"{base}/")
        link = page.locator("#worsened a, #silent a, #renewals a").first
        link.click()
        page.wait_for_url(re.compile(r".*/accounts/\d+/$"))
        shoot(page, "account-360")
        page.context.clear_cookies()
        sign_in(page, base, "carol")
        page.goto(f"{base}/?view=team")
        shoot(page, "today-team")
        page.goto(f"{base}/health/calibration/")
        shoot(page, "calibration")
        # Growth (issue #18): the expansion pipeline, renewal checkpoints and forecast accuracy.
        page.goto(f"{base}/growth/")
        shoot(page, "growth-pipeline", full_page=False)
        page.goto(f"{base}/growth/checkpoints/")
        shoot(page, "growth-checkpoints", full_page=False)
        page.goto(f"{base}/growth/accuracy/")
        shoot(page, "growth-accuracy")
        browser.close()


if __name__ == "__main__":
    main()
