"""A read-only user (rita) is shown no form that changes anything, on any main page, even with the
query strings that open the edit-in-place forms; only "Sign out" posts. The pages decide with the one
flag from csm/roles.py (``user_can_write``), and the server refuses the writes anyway."""

from html.parser import HTMLParser

import pytest

from accounts.models import Contact
from tests.main_pages import main_pages, seed_demo_book

pytestmark = pytest.mark.django_db

WRITE_ATTRIBUTES = ("hx-post", "hx-put", "hx-patch", "hx-delete")


class Writes(HTMLParser):
    """Every form that posts and every element htmx would make write, as (tag, target)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self.found.append((tag, attributes.get("action") or "(this page)"))
        if tag in ("button", "input") and (attributes.get("formmethod") or "").lower() == "post":
            self.found.append((tag, attributes.get("formaction") or "(this page)"))
        for name in WRITE_ATTRIBUTES:
            if attributes.get(name) is not None:
                self.found.append((f"{tag}[{name}]", attributes[name] or ""))


def writes_on(html: str) -> list[tuple[str, str]]:
    parser = Writes()
    parser.feed(html)
    return [(tag, target) for tag, target in parser.found if target != "/logout/"]


def test_writes_on_finds_forms_and_htmx_writes() -> None:
    html = ('<form method="POST" action="/x/"></form><form method="post" action="/logout/"></form>'
            '<form method="get"></form><button hx-delete="/y/">x</button>')  # fmt: skip
    assert writes_on(html) == [("form", "/x/"), ("button[hx-delete]", "/y/")]


def test_a_read_only_user_sees_no_form_on_any_main_page(client, settings) -> None:
    users = seed_demo_book(settings)
    rita = users["rita"]
    client.force_login(rita)
    account_page = next(path for path in main_pages(rita) if path.startswith("/accounts/") and path != "/accounts/")
    contact = Contact.objects.filter(account_id=int(account_page.split("/")[2])).first()
    pages = [*main_pages(rita), f"{account_page}?add_contact=1", f"{account_page}?edit_contact={contact.pk}",
             f"{account_page}?edit_account=1", f"{account_page}?successor=1"]  # fmt: skip
    found = {}
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        if writes := writes_on(response.content.decode()):
            found[path] = writes
    assert found == {}
    # The sign-out form is there, so the walk did read the pages' forms.
    assert 'action="/logout/"' in client.get("/").content.decode()


def test_a_read_only_user_cannot_change_their_notifications_or_settings(client, settings) -> None:
    users = seed_demo_book(settings)
    client.force_login(users["rita"])
    assert client.post("/notifications/read/").status_code == 403
    assert client.post("/notifications/settings/", {"daily_digest": ""}).status_code == 403
    assert users["rita"].notifications.filter(read_at__isnull=True).count() == 1
