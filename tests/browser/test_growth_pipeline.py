"""A CSM turns a suggestion into an opportunity and closes it won, in a real browser; then makes a
checkpoint call that disagrees with csm's, and the manager's task appears."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from growth import services
from growth.models import Checkpoint, Suggestion
from playbooks.models import Task
from renewals import services as renewal_services
from renewals.models import RevenueEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_suggestion_becomes_a_won_expansion_and_a_checkpoint_call_reaches_the_manager(
    page, sign_in, alice, carol, acme
) -> None:
    today = timezone.localdate()
    term = renewal_services.create_contract(
        account=acme, starts_on=today - timedelta(days=100), ends_on=today + timedelta(days=85),
        amount=Decimal("24000"), by=alice,
    )  # fmt: skip
    suggestion = Suggestion.objects.create(
        account=acme, signal="licences_full", period="q", reason="More than 90 % of licences in use", kind="seats",
        raised_on=today,
    )  # fmt: skip
    services.record_checkpoints(today=today)
    checkpoint = Checkpoint.objects.get()

    sign_in("alice")
    page.goto("/growth/")
    card = page.locator(".suggestion").filter(has_text="More than 90 % of licences in use")
    card.get_by_text("Accept or dismiss").click()
    card.get_by_label("Amount").fill("4000")
    card.get_by_role("button", name="Accept").click()
    page.wait_for_url(re.compile(r".*/growth/opportunities/\d+/$"))
    expect(page.get_by_role("status").filter(has_text="Accepted")).to_be_visible()

    page.get_by_role("button", name="Won").click()
    expect(page.get_by_role("status").filter(has_text="Won: the expansion is in the revenue ledger")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Expansion +USD 4,000.00")
    suggestion.refresh_from_db()
    assert suggestion.opportunity.stage == "won"
    assert RevenueEntry.objects.get(kind="expansion", contract=term).amount == Decimal("4000.00")

    page.goto("/growth/checkpoints/")
    row = page.locator(f"#checkpoint-{checkpoint.pk}")
    row.get_by_text("Make your call").click()
    other = "will_churn" if checkpoint.auto_call != "will_churn" else "likely"
    row.locator(f"input[name=call][value={other}]").check()
    row.get_by_label("Note (required)").fill("Sponsor is leaving in March.")
    row.get_by_role("button", name="Record call").click()
    expect(page.get_by_role("status").filter(has_text="Your call is recorded.")).to_be_visible()
    expect(page.locator(f"#checkpoint-{checkpoint.pk}")).to_contain_text("disagrees")
    assert Task.objects.get(key=f"growth:checkpoint-disagreement:{checkpoint.pk}").assignee == carol
