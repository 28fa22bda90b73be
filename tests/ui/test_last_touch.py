"""``Account.last_touch_at`` (read by "not heard from") follows the touchpoints however they change."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Account, Touchpoint
from tests.factories import AccountFactory, TouchpointFactory

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, tzinfo=UTC)


def last_touch(account: Account) -> datetime | None:
    return Account.objects.values_list("last_touch_at", flat=True).get(pk=account.pk)


def test_logging_a_touchpoint_moves_the_last_touch_forward_not_back(alice, acme) -> None:
    services.log_touchpoint(account=acme, kind="call", outcome="neutral", occurred_at=NOON, by=alice)
    assert last_touch(acme) == NOON
    services.log_touchpoint(
        account=acme, kind="email", outcome="neutral", occurred_at=NOON - timedelta(days=9), by=alice
    )
    assert last_touch(acme) == NOON


def test_deleting_the_latest_touchpoint_falls_back_to_the_one_before_then_to_never(acme) -> None:
    older = TouchpointFactory(account=acme, occurred_at=NOON - timedelta(days=20))
    latest = TouchpointFactory(account=acme, occurred_at=NOON)
    latest.delete()
    assert last_touch(acme) == older.occurred_at
    older.delete()
    assert last_touch(acme) is None


def test_moving_a_touchpoint_to_another_account_refreshes_both(alice, acme) -> None:
    other = AccountFactory(owner=alice)
    touchpoint = TouchpointFactory(account=acme, occurred_at=NOON)
    touchpoint = Touchpoint.objects.get(pk=touchpoint.pk)  # as the admin loads it
    touchpoint.account = other
    touchpoint.save()
    assert last_touch(acme) is None
    assert last_touch(other) == NOON


def test_a_touchpoint_added_through_the_api_counts(alice, acme) -> None:
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post("/api/touchpoints/", {"account": acme.pk, "occurred_at": "2026-01-05T10:00:00Z"})
    assert response.status_code == 201, response.content
    assert last_touch(acme) == datetime(2026, 1, 5, 10, tzinfo=UTC)


def test_bulk_loads_refresh_every_account_at_once(acme, globex) -> None:
    Touchpoint.objects.bulk_create(
        [Touchpoint(account=acme, occurred_at=NOON), Touchpoint(account=globex, occurred_at=NOON - timedelta(days=1))]
    )
    assert last_touch(acme) is None  # bulk_create sends no signals
    assert services.refresh_last_touch() == Account.objects.count()
    assert (last_touch(acme), last_touch(globex)) == (NOON, NOON - timedelta(days=1))
