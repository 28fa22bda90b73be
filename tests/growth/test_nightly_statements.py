"""The nightly growth jobs are set-based: the statements they send do not grow with the book."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from growth import services
from growth.models import Checkpoint, Suggestion
from playbooks.models import EntitlementUse, Milestone, Objective, SuccessPlan, Task
from renewals import services as renewal_services
from tests.factories import AccountFactory, HealthScoreFactory, UsageSnapshotFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db

ENDS = TODAY + timedelta(days=90)  # every renewal passes its T-90 checkpoint today


def _book(program, alice, size: int) -> None:
    """``size`` accounts, each giving every signal: full licences, an entitlement used up, a milestone
    reached, and a renewal at T-90 with a health score."""
    for i in range(size):
        account = AccountFactory(program=program, owner=alice, name=f"Book {i}")
        for back in range(0, 35, 7):
            UsageSnapshotFactory(
                account=account, date=TODAY - timedelta(days=back), licenses_active=24, licenses_purchased=25
            )
        renewal_services.create_contract(
            account=account, starts_on=ENDS - timedelta(days=364), ends_on=ENDS, amount=Decimal("12000"), by=alice
        )
        EntitlementUse.objects.create(account=account, kind="training", quantity=Decimal("4"), used_on=TODAY)
        objective = Objective.objects.create(plan=SuccessPlan.objects.create(account=account), title="Go live")
        Milestone.objects.create(
            objective=objective, title="Live", due_on=TODAY, status="reached", reached_on=TODAY - timedelta(days=1)
        )
        HealthScoreFactory(account=account, day=TODAY, score=35, band="red")


def _run(job) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        result = job(today=TODAY)
    return len(queries), result


@pytest.fixture
def program_with_training(program):
    program.training_seats = 4
    program.save()
    return program


def test_suggestions_send_the_same_statements_for_a_small_and_a_larger_book(program_with_training, alice) -> None:
    _book(program_with_training, alice, 2)
    small, small_counts = _run(services.raise_suggestions)
    Suggestion.objects.all().delete()
    _book(program_with_training, alice, 10)
    larger, larger_counts = _run(services.raise_suggestions)
    assert small_counts == {"licences_full": 2, "entitlement_used_up": 2, "milestone_reached": 2}
    assert larger_counts == {"licences_full": 12, "entitlement_used_up": 12, "milestone_reached": 12}
    assert small == larger
    # The next day finds each signal already raised: nothing new, and no more statements.
    again, again_counts = _run(services.raise_suggestions)
    assert again_counts == {"licences_full": 0, "entitlement_used_up": 0, "milestone_reached": 0}
    assert again <= larger


def test_checkpoints_send_the_same_statements_for_a_small_and_a_larger_book(program_with_training, alice) -> None:
    _book(program_with_training, alice, 2)
    small, small_counts = _run(services.record_checkpoints)
    Checkpoint.objects.all().delete()
    Task.objects.filter(key__startswith="growth:checkpoint:").delete()
    _book(program_with_training, alice, 10)
    larger, larger_counts = _run(services.record_checkpoints)
    assert (small_counts, larger_counts) == ({"checkpoints": 2}, {"checkpoints": 12})
    assert small == larger
    assert Checkpoint.objects.filter(days_before=90, auto_call="at_risk").count() == 12
    assert Task.objects.open().filter(key__startswith="growth:checkpoint:", assignee=alice).count() == 12
    assert _run(services.record_checkpoints)[1] == {"checkpoints": 0}
