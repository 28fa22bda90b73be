"""The daily digest, end to end: alice adds a task due today in the browser, bob turns his digest
off in Settings; the beat job then emails alice (captured by Django's test mail outbox) and not bob,
and a second run the same day sends nothing."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import DigestPreference
from notifications.tasks import send_daily_digests
from tests.factories import TaskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_digest_job_emails_what_is_due_to_those_who_want_it(page, sign_in, mailoutbox, alice, bob, acme, globex):
    TaskFactory(account=globex, assignee=bob, title="Bob's call", due_on=timezone.localdate())
    sign_in("alice")
    page.goto("/playbooks/tasks/")
    page.locator(".new-task summary").click()
    form = page.locator(".new-task form")
    form.get_by_label("Account").fill("Acme")
    form.get_by_label("Title").fill("Call Dana about the seats")
    form.get_by_label("Due").fill(timezone.localdate().isoformat())
    form.get_by_role("button", name="Add task").click()
    expect(page.locator(".task-list")).to_contain_text("Call Dana about the seats")

    page.context.clear_cookies()
    sign_in("bob")
    page.goto("/notifications/settings/")
    checkbox = page.get_by_label("Send me a daily digest email")
    expect(checkbox).to_be_checked()
    checkbox.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    assert DigestPreference.objects.get(user=bob).daily_digest is False

    assert send_daily_digests.apply().get() == {"sent": 1, "skipped": 0}
    [email] = mailoutbox
    assert email.to == [alice.email]
    assert "Call Dana about the seats (Acme)" in email.body
    assert "Bob's call" not in email.body

    assert send_daily_digests.apply().get()["sent"] == 0  # the same day again: nothing twice
    assert len(mailoutbox) == 1
