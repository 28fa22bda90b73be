"""A success manager's morning in a real browser: Today, an at-risk account, a touchpoint,
a task done; a manager's team view; and another CSM's account stays out of reach."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Touchpoint
from playbooks.models import Task
from tests.factories import TaskFactory, TouchpointFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def morning(alice, bob, acme, globex, alice_contract):
    today = timezone.localdate()
    # Acme has not been heard from in 100 days and has a task due: it is at risk this morning.
    TouchpointFactory(account=acme, occurred_at=timezone.now() - timedelta(days=100), by=alice)
    call = TaskFactory(account=acme, assignee=alice, title="Call Dana about the renewal",
                               reason="No touchpoint in 100 days", due_on=today)  # fmt: skip
    TaskFactory(account=globex, assignee=bob, title="Send Globex the QBR deck", due_on=today)
    return call


def test_a_csm_walks_the_morning_from_today_to_a_logged_touchpoint_and_a_done_task(page, sign_in, morning, acme):
    sign_in("alice")
    expect(page.get_by_role("heading", name="Good day, Alice")).to_be_visible()
    tasks = page.locator("#tasks")
    expect(tasks).to_contain_text("Call Dana about the renewal")
    expect(tasks).not_to_contain_text("Globex")
    silent = page.locator("#silent")
    expect(silent).to_contain_text("100 days ago")

    silent.get_by_role("link", name="Acme").click()
    page.wait_for_url(re.compile(rf".*/accounts/{acme.pk}/$"))
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()

    # Logging a touchpoint swaps the form and the timeline in place: no page load happens.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Kind", exact=True).select_option("call")
    page.get_by_label("Outcome", exact=True).select_option("positive")
    page.get_by_label("Contact", exact=True).select_option(label="Dana Buyer <buyer@acme.test>")
    page.get_by_label("Notes", exact=True).fill("Dana confirms the renewal; wants 10 more seats.")
    page.get_by_role("button", name="Log touchpoint").click()
    expect(page.get_by_role("status").filter(has_text="Touchpoint logged.")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Dana confirms the renewal")
    assert page.evaluate("window.__sameDocument") is True
    touchpoint = Touchpoint.objects.get(account=acme, notes__startswith="Dana confirms")
    assert (touchpoint.kind, touchpoint.outcome, touchpoint.contact.name) == ("call", "positive", "Dana Buyer")

    task_row = page.locator(f"#task-{morning.pk}")
    task_row.get_by_text("Done…").click()
    task_row.get_by_label("What came of it?").fill("Called, renewal on track")
    task_row.get_by_role("button", name="Mark done").click()
    expect(task_row.get_by_role("button", name="Mark done")).to_have_count(0)
    expect(task_row).to_contain_text("Done")
    assert page.evaluate("window.__sameDocument") is True
    morning.refresh_from_db()
    assert morning.status == Task.Status.DONE

    page.get_by_role("link", name="Today").click()
    expect(page.locator("#tasks")).to_contain_text("Nothing due today")
    expect(page.locator("#silent")).not_to_contain_text("Acme")


def test_a_manager_lands_on_the_teams_morning_and_toggles_to_their_own(page, sign_in, carol, morning) -> None:
    sign_in("carol")
    # A manager lands on the team's morning; "My book" is their own (empty) one.
    tasks = page.locator("#tasks")
    expect(tasks).to_contain_text("Call Dana about the renewal")
    expect(tasks).to_contain_text("Send Globex the QBR deck")
    expect(page.get_by_role("link", name="Team")).to_have_attribute("aria-current", "page")
    expect(page.locator("canvas[data-chart=pipeline]")).to_be_visible()
    page.get_by_role("link", name="My book").click()
    page.wait_for_url("**/?view=mine")
    expect(page.locator("#tasks")).to_contain_text("Nothing due today")


def test_a_csm_cannot_open_another_csms_account_by_url(page, sign_in, globex, acme) -> None:
    sign_in("alice")
    response = page.goto(f"/accounts/{globex.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Gina Globex")
    assert page.goto(f"/accounts/{acme.pk}/").status == 200


def test_the_account_list_works_from_the_keyboard(page, sign_in, acme, globex) -> None:
    sign_in("alice")
    page.goto("/accounts/")
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    page.keyboard.type("acm")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=acm**")
    link = page.get_by_role("link", name="Acme")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/accounts/{acme.pk}/$"))
    expect(page.get_by_role("heading", name="Log a touchpoint")).to_be_visible()
