"""A very large book's unfiltered count is remembered for a minute; everything else is counted live."""

import pytest
from django.urls import reverse

from front import pagination
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def shown_count(client, query: str = "") -> int:
    return client.get(reverse("front:account-list") + query).context["page"].paginator.count


def test_a_large_books_unfiltered_count_is_remembered(client, alice, monkeypatch) -> None:
    monkeypatch.setattr(pagination, "LARGE_BOOK", 3)
    AccountFactory.create_batch(3, owner=alice, name="Acme")
    client.force_login(alice)
    assert shown_count(client) == 3
    AccountFactory(owner=alice, name="Acme")
    assert shown_count(client) == 3
    assert shown_count(client, "?q=Acme") == 4  # a filtered list is counted afresh


def test_a_smaller_book_is_counted_afresh_every_time(client, alice, monkeypatch) -> None:
    monkeypatch.setattr(pagination, "LARGE_BOOK", 10)
    AccountFactory.create_batch(3, owner=alice)
    client.force_login(alice)
    assert shown_count(client) == 3
    AccountFactory(owner=alice)
    assert shown_count(client) == 4


def test_each_user_has_their_own_count(client, alice, bob, monkeypatch) -> None:
    monkeypatch.setattr(pagination, "LARGE_BOOK", 1)
    AccountFactory.create_batch(2, owner=alice)
    AccountFactory(owner=bob)
    client.force_login(alice)
    assert shown_count(client) == 2
    client.force_login(bob)
    assert shown_count(client) == 1
