"""The renewal board in a real browser: a card dragged to another stage moves (a stage with
consequences asks first, and a "no" moves nothing), and Undo puts it back."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from renewals.models import Renewal
from tests.factories import ContractFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def renewal(alice, acme) -> Renewal:
    today = timezone.localdate()
    contract = ContractFactory(account=acme, starts_on=today - timedelta(days=300), ends_on=today + timedelta(days=65))
    renewal, _ = Renewal.objects.get_or_create(contract=contract, defaults={"owner": alice})
    return renewal


def card(page, stage: str):
    return page.locator(f".board-col.stage-{stage} .board-card").filter(has_text="Acme")


def test_a_drag_moves_the_card_and_undo_puts_it_back(page, sign_in, renewal) -> None:
    assert renewal.stage == Renewal.Stage.UPCOMING
    sign_in("alice")
    page.goto("/renewals/board/")
    expect(card(page, "upcoming")).to_be_visible()

    card(page, "upcoming").drag_to(page.locator(".board-col.stage-in_discussion"))
    page.wait_for_url("**/renewals/board/")
    expect(card(page, "in_discussion")).to_be_visible()
    expect(card(page, "upcoming")).to_have_count(0)
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.IN_DISCUSSION

    page.get_by_role("button", name="Undo (back to Upcoming)").click()
    expect(card(page, "upcoming")).to_be_visible()
    expect(page.get_by_role("button", name="Undo (back to Upcoming)")).to_have_count(0)
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.UPCOMING


def test_a_drag_to_a_stage_with_consequences_asks_first(page, sign_in, renewal) -> None:
    sign_in("alice")
    page.goto("/renewals/board/")
    asked = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    card(page, "upcoming").drag_to(page.locator(".board-col.stage-committed"))
    assert len(asked) == 1  # the dialog is synchronous: answered before drag_to returns
    assert "Committed" in asked[0]
    expect(card(page, "upcoming")).to_be_visible()  # "no": nothing moved
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.UPCOMING

    card(page, "upcoming").drag_to(page.locator(".board-col.stage-committed"))
    expect(card(page, "committed")).to_be_visible()
    assert len(asked) == 2
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.COMMITTED
