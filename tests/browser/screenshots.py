"""Screenshots of the main pages for docs/screenshots/, from a running server with demo data, at a
laptop's width (1280 px, ``<page>-desktop.png``) and a phone's (390 px, ``<page>-phone.png``).

    python manage.py seed_demo --accounts 300 && python manage.py runserver 127.0.0.1:8104
    python tests/browser/screenshots.py --base-url http://127.0.0.1:8104 [--only today,board]

Drives Debian's Chromium headless (never a downloaded browser).
"""

import argparse
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
PASSWORD = "demo-pass-2026"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def at_risk_account(page: Page, base: str) -> str:
    """The account 360 of an at-risk account when Today lists one, else the first account."""
    page.goto(f"{base}/")
    link = page.locator("#worsened a, #silent a, #renewals a").first
    link.click()
    page.wait_for_url(re.compile(r".*/accounts/\d+/$"))
    return page.url.removeprefix(base)


def first_link(page: Page, base: str, path: str, pattern: str) -> str:
    page.goto(f"{base}{path}")
    for href in page.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if href and re.fullmatch(pattern, href):
            return href
    raise SystemExit(f"no link matching {pattern} on {path}")


# A HubSpot companies export (its own headers, semicolons, "$12,000.00"), owners as the demo's emails.
HUBSPOT_EXPORT = (
    '"Record ID";"Company name";"Company Domain Name";"Company owner";"Annual Revenue";"CS Segment";"Service tier"\n'
    '"5012345601";"Umbrella Corp";"umbrella.test";"alice@csm.example";"$12,000.00";"Mid-market";"Professional"\n'
    '"5012345602";"Wayne Enterprises";"wayne.test";"bob@csm.example";"$240,500.00";"Enterprise";"Professional"\n'
    '"5012345603";"Stark Industries";"stark.test";"Alice Martin";"$1,200.00";"SMB";"Essentials"\n'
)


def hubspot_mapping(page: Page, base: str) -> str:
    """The mapping step of an uploaded HubSpot export (after a first run the mapping is remembered:
    the upload goes to the check, and its "Change the column mapping" opens the step)."""
    page.goto(f"{base}/imports/")
    page.get_by_label("What the file holds").select_option("accounts")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "hubspot-crm-exports-all-companies.csv", "mimeType": "text/csv",
                "buffer": HUBSPOT_EXPORT.encode()}]
    )  # fmt: skip
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_url(re.compile(r".*/imports/\d+/(mapping/)?$"))
    if not page.url.endswith("/mapping/"):
        page.get_by_role("link", name="Change the column mapping", exact=True).click()
        page.wait_for_url(re.compile(r".*/imports/\d+/mapping/$"))
    return page.url.removeprefix(base)


def hubspot_checked(page: Page, base: str) -> str:
    """The same export after the user maps its custom segment column: the check and its preview."""
    page.goto(f"{base}{hubspot_mapping(page, base)}")
    page.locator("table.import-mapping").get_by_label("CS Segment", exact=True).select_option("segment")
    page.get_by_role("button", name="Check the file with this mapping").click()
    page.wait_for_url(re.compile(r".*/imports/\d+/$"))
    return page.url.removeprefix(base)


# (name, who, path or a function of the page finding it)
PAGES = [
    ("today", "alice", "/"),
    ("today-team", "carol", "/?view=team"),
    ("accounts", "alice", "/accounts/"),
    ("account-360", "alice", at_risk_account),
    ("account-add-contact", "alice", lambda page, base: at_risk_account(page, base) + "?add_contact=1#contacts"),
    ("renewals", "carol", "/renewals/"),
    ("renewal-board", "carol", "/renewals/board/"),
    ("renewal-detail", "alice", lambda page, base: first_link(page, base, "/renewals/", r"/renewals/\d+/")),
    ("metrics", "carol", "/metrics/?period=quarter"),  # base-currency totals at stated rates, the seed metrics
    ("tasks", "alice", "/playbooks/tasks/"),
    ("handoff", "alice", "/playbooks/handoff/"),
    ("imports", "alice", "/imports/"),
    ("import-mapping", "carol", hubspot_mapping),
    ("import-checked", "carol", hubspot_checked),
    ("notifications", "alice", "/notifications/"),
    ("calibration", "carol", "/health/calibration/"),
    ("account-read-only", "rita", at_risk_account),
    # Growth (issue #18): the expansion pipeline, renewal checkpoints and forecast accuracy.
    ("growth-pipeline", "carol", "/growth/"),
    ("growth-checkpoints", "carol", "/growth/checkpoints/"),
    ("growth-accuracy", "carol", "/growth/accuracy/"),
]


def shoot_all(browser: Browser, base: str, only: set[str]) -> None:
    for size, viewport in SIZES.items():
        pages: dict[str, Page] = {}
        for name, who, where in PAGES:
            if only and name not in only:
                continue
            if who not in pages:
                pages[who] = browser.new_page(viewport=viewport)
                sign_in(pages[who], base, who)
            page = pages[who]
            path = where if isinstance(where, str) else where(page, base)
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(400)  # charts finish their animation
            out = OUT / f"{name}-{size}.png"
            page.screenshot(path=str(out), full_page=True)
            print(f"wrote {out.relative_to(ROOT)} ({path})")
        for page in pages.values():
            page.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8104")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--only", default="", help="comma-separated page names")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        shoot_all(browser, args.base_url.rstrip("/"), {name for name in args.only.split(",") if name})
        browser.close()


if __name__ == "__main__":
    main()
