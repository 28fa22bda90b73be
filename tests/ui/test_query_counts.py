"""The Today page and the account page cost the same number of statements whatever the
size of the book (no query per account, contact, contract or task). Today and the account list
are measured as computed, with the page cache off (tests/ui/test_page_cache.py covers the cache)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def statements(client, url: str, *, warm: bool = True) -> int:
    if warm:
        client.get(url)  # the first request also looks up the user's 2FA devices (then cached: csm/otp.py)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("view", ["", "?view=team"])
def test_today_runs_the_same_queries_for_a_small_and_a_large_book(
    client, carol, alice, grow_book, django_assert_num_queries, view, settings
) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    grow_book(alice, 1)
    client.force_login(carol if view else alice)
    url = reverse("front:today") + view
    small = statements(client, url)
    grow_book(alice, 12, extra=2)
    with django_assert_num_queries(small):
        page = client.get(url)
    assert page.context["tasks"].total == 25
    assert page.context["onboarding"].total == 13
    assert page.context["worsened"].total == 13
    assert page.context["renewals"].total == 25


def test_today_charts_run_the_same_queries_for_a_small_and_a_large_book(
    client, alice, grow_book, django_assert_num_queries
) -> None:
    grow_book(alice, 1)
    client.force_login(alice)
    small = statements(client, reverse("front:today-charts"), warm=False)
    grow_book(alice, 10, extra=2)
    cache.clear()  # computed again, not served from the cache
    with django_assert_num_queries(small):
        client.get(reverse("front:today-charts"))


def test_the_account_page_runs_the_same_queries_for_a_small_and_a_large_account(
    client, alice, grow_book, django_assert_num_queries
) -> None:
    (small_account,) = grow_book(alice, 1)
    client.force_login(alice)
    small = statements(client, reverse("front:account-detail", args=[small_account.pk]))
    grow_book(alice, 10)
    (large_account,) = grow_book(alice, 1, extra=6)
    with django_assert_num_queries(small):
        page = client.get(reverse("front:account-detail", args=[large_account.pk]))
    assert len(page.context["contacts"]) == 6
    assert len(page.context["open_tasks"]) == 6
    assert len(page.context["timeline"]) > 6


def test_the_account_list_runs_the_same_queries_for_a_small_and_a_large_book(
    client, alice, grow_book, django_assert_num_queries, settings
) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    grow_book(alice, 1)
    client.force_login(alice)
    small = statements(client, reverse("front:account-list"))
    grow_book(alice, 12)
    with django_assert_num_queries(small):
        page = client.get(reverse("front:account-list"))
    assert len(page.context["page"].object_list) == 13
