"""A CSM finishes "Add a second renewal contact" from the task list in a real browser: the task
links to the contact form, the contact is added in place, and the task closes."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Contact
from playbooks.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_csm_adds_the_second_renewal_contact_from_the_coverage_task(page, sign_in, bob, globex) -> None:
    task = Task.objects.create(
        account=globex,
        assignee=bob,
        title="Add a second renewal contact",
        key="renewal:single-contact:1",
        reason="Renewal coverage: single contact",
        due_on=timezone.localdate(),
    )
    sign_in("bob")
    page.goto("/playbooks/tasks/")
    page.locator(f"#task-{task.pk}").get_by_role("link", name="Add the renewal contact").click()
    page.wait_for_url(re.compile(rf".*/accounts/{globex.pk}/\?add_contact=1.*"))

    form = page.locator("#contact-form")
    expect(form.get_by_label("Renewal contact")).to_be_checked()
    page.evaluate("window.__sameDocument = true")
    form.get_by_label("Name", exact=True).fill("Rosa Renewal")
    form.get_by_label("Email", exact=True).fill("rosa@globex.test")
    form.get_by_label("Phone", exact=True).fill("+1 555 0199")
    form.get_by_role("button", name="Save contact").click()

    expect(page.get_by_role("status").filter(has_text="Rosa Renewal added.")).to_be_visible()
    expect(page.locator("#contacts")).to_contain_text("rosa@globex.test")
    expect(page.locator("#contact-form")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no page load
    rosa = Contact.objects.get(email="rosa@globex.test")
    assert (rosa.is_renewal, rosa.phone) == (True, "+1 555 0199")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE

    page.goto("/playbooks/tasks/")
    expect(page.locator(f"#task-{task.pk}")).to_have_count(0)
