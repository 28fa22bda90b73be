from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from tests.factories import AccountFactory, ContractFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def names(client, **params) -> list[str]:
    response = client.get(reverse("front:account-list"), params)
    assert response.status_code == 200
    return [a.name for a in response.context["page"].object_list]


def test_a_csm_lists_only_their_book(client, alice, acme, globex) -> None:
    client.force_login(alice)
    assert names(client) == ["Acme"]


def test_search_matches_part_of_the_name_or_the_exact_external_id(client, alice) -> None:
    AccountFactory(name="Blue Harbor Foods", external_id="BH-1", owner=alice)
    AccountFactory(name="Red Oak", external_id="RO-7", owner=alice)
    client.force_login(alice)
    assert names(client, q="harbor") == ["Blue Harbor Foods"]
    assert names(client, q="ro-7") == ["Red Oak"]


def test_filters_combine_owner_program_stage_and_renewal_window(client, carol, alice, bob) -> None:
    gold = ProgramFactory(name="Gold")
    today = timezone.localdate()
    soon = AccountFactory(name="Soon", owner=alice, program=gold, lifecycle_stage=Account.Stage.RENEWAL)
    ContractFactory(account=soon, ends_on=today + timedelta(days=20))
    late = AccountFactory(name="Late", owner=alice, program=gold, lifecycle_stage=Account.Stage.RENEWAL)
    ContractFactory(account=late, ends_on=today + timedelta(days=200))
    AccountFactory(name="Bobs", owner=bob, program=gold, lifecycle_stage=Account.Stage.RENEWAL)
    AccountFactory(name="Other stage", owner=alice, program=gold, lifecycle_stage=Account.Stage.MATURE)
    client.force_login(carol)
    assert names(client, owner=alice.pk, program=gold.pk, stage="renewal") == ["Late", "Soon"]
    assert names(client, owner=alice.pk, stage="renewal", renewal=30) == ["Soon"]


def test_sorting_by_next_renewal_and_by_revenue(client, alice) -> None:
    today = timezone.localdate()
    for name, days, amount in (("A", 300, 5000), ("B", 10, 90000), ("C", 100, 20000)):
        ContractFactory(account=AccountFactory(name=name, owner=alice), ends_on=today + timedelta(days=days),
                        recurring_amount=amount)  # fmt: skip
    client.force_login(alice)
    assert names(client, sort="renewal") == ["B", "C", "A"]
    assert names(client, sort="-arr") == ["B", "C", "A"]
    assert names(client, sort="-name") == ["C", "B", "A"]


def test_the_list_is_paginated_by_fifty_keeping_the_filters(client, alice) -> None:
    AccountFactory.create_batch(55, owner=alice)
    client.force_login(alice)
    first = client.get(reverse("front:account-list"), {"stage": "adoption"})
    assert len(first.context["page"].object_list) == 50
    assert "stage=adoption&amp;page=2" in first.content.decode()
    second = client.get(reverse("front:account-list"), {"stage": "adoption", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_an_empty_result_says_what_to_do_next(client, alice, acme) -> None:
    client.force_login(alice)
    page = client.get(reverse("front:account-list"), {"q": "zzz"}).content.decode()
    assert "No account matches these filters" in page
    assert "clear the filters" in page
