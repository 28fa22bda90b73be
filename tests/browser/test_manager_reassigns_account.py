"""A manager hands an account to another CSM of the team from the account page, in place; the new
owner sees it in their book, the old owner no longer does."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reassigns_an_account_to_another_csm(page, sign_in, carol, bob, acme) -> None:
    sign_in("carol")
    page.goto(f"/accounts/{acme.pk}/")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("link", name="Edit account").click()
    form = page.locator("form.account-form")
    owner = form.get_by_label("Owner")
    expect(owner).to_be_visible()
    owner.select_option(label="Bob")
    form.get_by_role("button", name="Save account").click()

    expect(page.locator("form.account-form")).to_have_count(0)
    expect(page.locator(".facts")).to_contain_text("Bob")
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no page load
    acme.refresh_from_db()
    assert acme.owner == bob

    # Bob's book has Acme now; alice's does not.
    page.context.clear_cookies()
    sign_in("bob")
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Acme")).to_be_visible()
    page.context.clear_cookies()
    sign_in("alice")
    assert page.goto(f"/accounts/{acme.pk}/").status == 404
    assert Account.objects.filter(owner__username="alice").count() == 0


def test_a_csm_is_not_offered_the_owner_field(page, sign_in, alice, acme) -> None:
    sign_in("alice")
    page.goto(f"/accounts/{acme.pk}/?edit_account=1")
    form = page.locator("form.account-form")
    expect(form.get_by_label("Segment")).to_be_visible()
    expect(form.get_by_label("Owner")).to_have_count(0)
