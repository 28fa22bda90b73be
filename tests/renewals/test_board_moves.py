"""The board: a move needs the Move button (or a drag), says how many cards of how many, and can be undone."""

import pytest
from django.urls import reverse

from accounts.models import Program
from renewals import services
from renewals.models import Renewal
from renewals.views import BOARD_COLUMN
from tests.factories import ContractFactory

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal(alice_contract) -> Renewal:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return Renewal.objects.get(contract=alice_contract)


def test_the_stage_select_does_not_submit_itself_and_has_a_move_button(client, alice, renewal) -> None:
    client.force_login(alice)
    page = client.get(reverse("renewals:renewal-board")).content.decode()
    assert "js-autosubmit" not in page
    assert '<button type="submit" class="btn small">Move</button>' in page
    assert 'data-stage="notified"' in page
    assert "data-confirm=" in page  # Notified and Committed ask before a drag moves a card


def test_a_move_offers_an_undo_that_puts_the_card_back(client, alice, renewal) -> None:
    client.force_login(alice)
    url = reverse("renewals:renewal-stage", args=[renewal.pk])
    client.post(url, {"stage": "in_discussion", "next": "board"})
    renewal.refresh_from_db()
    assert renewal.stage == "in_discussion"
    board = client.get(reverse("renewals:renewal-board")).content.decode()
    assert "Undo (back to Upcoming)" in board
    client.post(url, {"stage": "upcoming", "next": "board", "undo": "1"})
    renewal.refresh_from_db()
    assert renewal.stage == "upcoming"
    assert "Undo (back" not in client.get(reverse("renewals:renewal-board")).content.decode()


def test_a_long_column_says_how_many_it_shows_of_how_many(client, alice, acme, renewal) -> None:
    for _ in range(BOARD_COLUMN):
        ContractFactory(account=acme, ends_on=renewal.contract.ends_on, recurring_amount=1000)
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    total = Renewal.objects.filter(stage="upcoming").count()
    assert total > BOARD_COLUMN
    client.force_login(alice)
    page = client.get(reverse("renewals:renewal-board")).content.decode()
    assert f"{BOARD_COLUMN} of {total}" in page
    assert f"See all {total} in the list" in page


def test_the_renewals_page_shows_each_programs_lead(client, alice, renewal) -> None:
    Program.objects.create(name="Enterprise", renewal_notice_lead_days=90)
    client.force_login(alice)
    page = client.get(reverse("renewals:renewal-list")).content.decode()
    assert "90 days ahead for Enterprise" in page
    assert "60 days ahead for Professional" in page
