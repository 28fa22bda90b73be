"""The nightly run's statements do not grow with the rows it handles: a per-row query (an N+1) in a
chunk or a band-change batch would make 50 accounts cost more statements than 5 (docs/benchmarks.md)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import signals
from accounts.models import Account, UsageSnapshot
from health import nightly
from tests.factories import AccountFactory

from .conftest import DAY, give_check, give_touchpoints, give_usage

pytestmark = pytest.mark.django_db
NEXT = DAY + timedelta(days=1)


def book_whose_bands_fall(owner, program, size: int) -> list:
    """``size`` healthy accounts scored on DAY, whose usage collapses the next day."""
    accounts = []
    for n in range(size):
        account = AccountFactory(name=f"Count {n}", owner=owner, program=program)
        give_usage(account)
        give_touchpoints(account)
        give_check(account)
        accounts.append(account)
    nightly.recalculate_health(day=DAY)
    UsageSnapshot.objects.filter(account__in=accounts).delete()
    for account in accounts:
        give_usage(account, day=NEXT, active=0, advanced=0, cases=8, escalations=3, availability="90")
    return accounts


def statements_of_a_night(owner, program, size: int) -> tuple[int, int]:
    """Statements of one nightly chunk with its band changes, and of the band-change batch alone."""
    Account.objects.all().delete()  # the book of a previous call
    book_whose_bands_fall(owner, program, size)
    received = []
    signals.health_bands_changed.connect(receiver := lambda **kwargs: received.extend(kwargs["changes"]))
    try:
        with CaptureQueriesContext(connection) as night:
            nightly.recalculate_health(day=NEXT)
        assert len(received) == size, "every account's band fell: the batch named each one"
        with CaptureQueriesContext(connection) as batch:
            nightly._send_band_changes(day=NEXT)
        assert len(received) == 2 * size
    finally:
        signals.health_bands_changed.disconnect(receiver)
    return len(night), len(batch)


def test_a_nightly_chunk_and_a_band_change_batch_cost_the_same_statements_for_5_or_50_accounts(
    alice, bob, program
) -> None:
    small = statements_of_a_night(alice, program, 5)
    large = statements_of_a_night(bob, program, 50)
    assert large == small, f"5 accounts: {small} statements (night, batch); 50 accounts: {large}"
