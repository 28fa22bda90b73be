"""At a 390 px phone's width no main page scrolls sideways: wide tables scroll inside their own box,
forms and panels go to one column (static/css/phone.css). For a CSM and for a manager, whose pages
show the team's wider figures."""

import pytest

from tests.browser.conftest import PHONE, visit
from tests.main_pages import main_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What makes a page too wide, for the failure message: the elements reaching past the screen that
# no scrolling box of their own contains.
WIDEST = """(width) => {
  const inScroller = (el) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
    if (getComputedStyle(p).overflowX !== "visible") return true; return false; };
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !inScroller(el))
    .slice(-5).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`);
}"""


@pytest.mark.parametrize("username", ["alice", "carol"])
def test_no_main_page_scrolls_sideways_at_390_px(open_as, demo_book, username) -> None:
    page = open_as(username, PHONE)
    assert page.evaluate("window.innerWidth") == 390
    too_wide = {}
    pages = main_pages(demo_book[username])
    for path in pages:
        visit(page, path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = (width, page.evaluate(WIDEST, 390))
    assert too_wide == {}
    assert len(pages) >= 17
