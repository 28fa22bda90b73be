"""The Today charts are computed once per few minutes per scope, and never shown to another scope."""

from datetime import date

import pytest
from django.urls import reverse

from front import today as sections
from tests.factories import ContractFactory, RenewalFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


def open_renewals(chart: dict) -> int:
    return sum(stage["n"] for stage in chart["pipeline"])


def test_a_second_request_is_served_from_the_cache(client, alice, acme, django_assert_num_queries) -> None:
    client.force_login(alice)
    url = reverse("front:today-charts")
    client.get(url)
    # Only the session and the user: no chart query.
    with django_assert_num_queries(3):
        client.get(url)


def test_each_scope_has_its_own_charts(alice, bob, carol, acme, globex) -> None:
    for account in (acme, globex):
        RenewalFactory(contract=ContractFactory(account=account))
    mine = sections.charts(sections.Scope(user=alice), today=TODAY)
    team = sections.charts(sections.Scope(user=carol, team=True), today=TODAY)
    bobs = sections.charts(sections.Scope(user=bob), today=TODAY)
    assert (open_renewals(mine), open_renewals(team), open_renewals(bobs)) == (1, 2, 1)
    assert sections.charts(sections.Scope(user=carol), today=TODAY)["pipeline"] != team["pipeline"]


def test_the_cache_holds_the_charts_for_a_few_minutes(alice, acme) -> None:
    first = sections.charts(sections.Scope(user=alice), today=TODAY)
    RenewalFactory(contract=ContractFactory(account=acme))
    assert sections.charts(sections.Scope(user=alice), today=TODAY) == first
