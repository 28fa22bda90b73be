"""axe-core (tests/browser/package.json, installed by `npm ci` in tests/browser) checks every main
page, as a CSM, a manager and a read-only user, at a laptop's width and at a phone's: no serious or
critical violation (WCAG 2 A/AA rules, colour contrast among them)."""

import json
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, PHONE, visit
from tests.main_pages import main_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({rule: v.id, impact: v.impact,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary)}));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/browser (.ci/run does).")
    return AXE.read_text()


def serious_violations(page, axe_source: str) -> list[dict]:
    # Evaluated through the DevTools protocol: the pages' CSP (script-src 'self') stays on.
    page.evaluate(axe_source + "\n;void 0")
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize(
    ("username", "viewport"),
    [("alice", DESKTOP), ("carol", DESKTOP), ("rita", DESKTOP), ("alice", PHONE)],
    ids=["csm", "manager", "read-only", "csm-phone"],
)
def test_no_main_page_has_a_serious_accessibility_violation(open_as, demo_book, axe_source, username, viewport):
    page = open_as(username, viewport)
    found = {}
    pages = main_pages(demo_book[username])
    for path in pages:
        visit(page, path)
        if violations := serious_violations(page, axe_source):
            found[path] = violations
    assert found == {}, json.dumps(found, indent=1)
    assert len(pages) >= 16
