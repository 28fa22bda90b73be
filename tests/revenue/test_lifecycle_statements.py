"""The nightly lifecycle job is set-based: its statements do not grow with the contracts that end."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, StageChange
from notifications.models import Notification
from playbooks.models import Task
from renewals import lifecycle, services
from renewals.models import Contract, ReasonCode, Renewal, RevenueEntry
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)
# SQLite splits an insert at 999 parameters (about 50 history rows of a renewal), so the larger
# book stays under that: above it, the statements grow by the SQLite backend's batches, not the job's.
SMALL, LARGE = 4, 24


def contracts(n: int, owner, *, ends_on: date, stage: str = Account.Stage.ADOPTION, **kwargs) -> list[Contract]:
    return [
        services.create_contract(
            account=AccountFactory(owner=owner, lifecycle_stage=stage),
            starts_on=ends_on - timedelta(days=364),
            ends_on=ends_on,
            amount=Decimal("1200"),
            by=None,
            **kwargs,
        )
        for _ in range(n)
    ]


def book(n: int, owner) -> None:
    """``n`` contracts of every case the job handles on ``TODAY``."""
    # Lapsing today: overdue since a month (their tasks open), their grace ended yesterday.
    contracts(n, owner, ends_on=TODAY - timedelta(days=31))
    lifecycle.run_contract_lifecycle(today=TODAY - timedelta(days=30))
    # Auto-renewing yesterday, half with an uplift (an expansion entry); their accounts in "renewal".
    for index, contract in enumerate(
        contracts(n, owner, ends_on=TODAY - timedelta(days=1), stage=Account.Stage.RENEWAL, auto_renew=True)
    ):
        Renewal.objects.filter(contract=contract).update(uplift_pct=Decimal("5") if index % 2 else Decimal("0"))
    contracts(n, owner, ends_on=TODAY - timedelta(days=1))  # overdue today (and into "renewal")
    price = ReasonCode.objects.get(code="price")
    for contract in contracts(n, owner, ends_on=TODAY - timedelta(days=1)):  # lost: expires, the account churns
        services.mark_renewal_lost(contract.renewal, reason=price, notes="", by=None, today=TODAY - timedelta(days=9))
    contracts(n, owner, ends_on=TODAY + timedelta(days=20))  # inside the notice window: stage "renewal"


def night(n: int, owner, django_capture_on_commit_callbacks) -> tuple[int, dict, dict]:
    """Build the book, run the night (with what runs after commit), count; then roll it all back."""
    with transaction.atomic():
        book(n, owner)
        before = {
            "tasks": Task.objects.count(),
            "notifications": Notification.objects.count(),
            "entries": RevenueEntry.objects.count(),
            "stage changes": StageChange.objects.count(),
        }
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            done = lifecycle.run_contract_lifecycle(today=TODAY)
        added = {
            "tasks": Task.objects.count() - before["tasks"],
            "notifications": Notification.objects.count() - before["notifications"],
            "entries": RevenueEntry.objects.count() - before["entries"],
            "stage changes": StageChange.objects.count() - before["stage changes"],
            "cancelled tasks": Task.objects.filter(status=Task.Status.CANCELLED).count(),
        }
        transaction.set_rollback(True)
    return len(queries), done, added


def test_the_statements_do_not_grow_with_the_contracts_that_end(alice, django_capture_on_commit_callbacks) -> None:
    small, small_done, small_added = night(SMALL, alice, django_capture_on_commit_callbacks)
    large, large_done, large_added = night(LARGE, alice, django_capture_on_commit_callbacks)
    # The job did every case, for every contract of each book.
    for n, done, added in ((SMALL, small_done, small_added), (LARGE, large_done, large_added)):
        assert done == {
            "expired": n,
            "auto_renewed": n,
            "overdue": n,
            "lapsed": n,
            "churned": 2 * n,  # the lost and the lapsed
            "renewal_stage": 2 * n,  # inside the notice window, and overdue (still in force, open)
        }
        assert added == {
            "tasks": n,  # overdue: one task each
            "notifications": n,  # ... and its notification to the CSM
            "entries": n + n // 2,  # a churn per lapse, an expansion per uplift
            "stage changes": 2 * n + n + 2 * n,  # churned, back to adoption, into renewal
            "cancelled tasks": n,  # the lapsed renewals' overdue tasks
        }
    assert large == small, f"{small} statements for {SMALL} contracts a case, {large} for {LARGE}"


def again(n: int, owner) -> tuple[list[str], dict]:
    """The statements of a second run the same day, after the night's run; rolled back."""
    with transaction.atomic():
        book(n, owner)
        lifecycle.run_contract_lifecycle(today=TODAY)
        with CaptureQueriesContext(connection) as queries:
            done = lifecycle.run_contract_lifecycle(today=TODAY)
        transaction.set_rollback(True)
    return [query["sql"] for query in queries.captured_queries], done


def test_a_second_run_the_same_day_selects_a_fixed_few_and_reads_no_owners(alice) -> None:
    small, small_done = again(SMALL, alice)
    large, large_done = again(LARGE, alice)
    assert small_done == large_done == dict.fromkeys(small_done, 0)
    assert len(large) == len(small), f"{len(small)} statements for {SMALL} contracts a case, {len(large)} for {LARGE}"
    # Nothing moved on: the owners whose pages it would refresh are not read.
    assert not [sql for sql in small if "owner_id" in sql]
    # Only selections: the night has nothing to write.
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in small), small
