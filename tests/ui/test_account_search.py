"""The account list's search finds by part of the name or the whole external id, and on
PostgreSQL it can use the search indexes instead of reading every account."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from front.forms import AccountFilterForm
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    AccountFactory(name="Harbor Logistics", external_id="CRM-1", owner=alice)
    AccountFactory(name="Summit Foods", external_id="HARBOR-9", owner=alice)
    AccountFactory(name="Pine Labs", external_id="CRM-3", owner=alice)


def searched(user, query: str):
    form = AccountFilterForm({"q": query}, user=user)
    return form.filter(Account.objects.visible_to(user), today=timezone.localdate())


def test_search_finds_part_of_a_name_or_a_whole_external_id_in_any_case(alice, book, client) -> None:
    assert {a.name for a in searched(alice, "harb")} == {"Harbor Logistics"}
    assert {a.name for a in searched(alice, "harbor-9")} == {"Summit Foods"}
    client.force_login(alice)
    page = client.get(reverse("front:account-list"), {"q": "LOGIST"}).content.decode()
    assert "Harbor Logistics" in page
    assert "Pine Labs" not in page


def test_on_postgresql_the_search_can_use_its_indexes(admin_user, book) -> None:
    queryset = searched(admin_user, "harb").values("pk")  # every book: nothing narrows it but the search
    if connection.vendor != "postgresql":
        # SQLite has no such indexes (the migration leaves it alone); the search still works.
        assert queryset.count() == 1
        return
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Plans that read every row (sequential or whole-index scans) priced out: what is left must
        # find the rows through the search indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "account_name_trgm_idx" in plan
    assert "account_external_upper_idx" in plan
