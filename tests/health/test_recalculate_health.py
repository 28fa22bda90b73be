"""The nightly recalculation: one row per account per day, the same as the Python formula."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, HealthComponent, HealthModel, HealthScore
from health import nightly, scoring
from playbooks.models import Milestone, Objective, SuccessPlan
from renewals.models import Renewal
from tests.factories import AccountFactory, ContractFactory, OnboardingItemFactory, ProgramFactory, RenewalFactory

from .conftest import DAY, give_check, give_touchpoints, give_usage

pytestmark = pytest.mark.django_db


def test_running_the_same_day_twice_leaves_one_identical_row_per_account(healthy_account, globex) -> None:
    give_usage(globex, active=3)
    first = nightly.recalculate_health(day=DAY)
    rows = {r.account_id: (r.score, r.band, r.components) for r in HealthScore.objects.all()}
    second = nightly.recalculate_health(day=DAY)
    assert first == second == 2
    assert HealthScore.objects.count() == 2
    assert {r.account_id: (r.score, r.band, r.components) for r in HealthScore.objects.all()} == rows


def test_each_day_gets_its_own_row(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    nightly.recalculate_health(day=DAY + timedelta(days=1))
    assert list(HealthScore.objects.order_by("day").values_list("day", flat=True)) == [DAY, DAY + timedelta(days=1)]


def _varied_book(rng: random.Random, program, owner) -> list[Account]:
    accounts = []
    for i in range(24):
        account = AccountFactory(owner=owner, program=program if i % 3 else None)
        accounts.append(account)
        if rng.random() < 0.85:
            purchased = rng.choice([0, 5, 25, 300])
            active = rng.randint(0, purchased)
            give_usage(
                account,
                day=DAY - timedelta(days=rng.randint(0, 40)),
                purchased=purchased,
                active=active,
                advanced=rng.randint(0, active),
                availability=rng.choice([None, "97.13", "99.99", "100.00", "92.5"]),
                cases=rng.randint(0, 9),
                escalations=rng.randint(0, 2),
            )
        if rng.random() < 0.7:
            give_touchpoints(account, days_ago=rng.randint(0, 200), positive=rng.randint(0, 3), other=rng.randint(0, 3))
        if rng.random() < 0.6:
            give_check(account, sentiment=rng.randint(1, 5), days_ago=rng.randint(0, 300))
        if rng.random() < 0.5:
            for position in range(rng.randint(1, 5)):
                OnboardingItemFactory(
                    account=account,
                    title=f"Step {position}",
                    position=position,
                    due_on=DAY,
                    completed_on=DAY - timedelta(days=rng.randint(-5, 30)) if rng.random() < 0.6 else None,
                )
        if rng.random() < 0.5:
            plan = SuccessPlan.objects.create(account=account)
            objective = Objective.objects.create(plan=plan, title="Go live")
            for _ in range(rng.randint(1, 4)):
                Milestone.objects.create(
                    objective=objective,
                    title="Milestone",
                    due_on=DAY,
                    status=rng.choice(list(Milestone.Status.values)),
                    reached_on=DAY - timedelta(days=rng.randint(-10, 30)) if rng.random() < 0.5 else None,
                )
        if rng.random() < 0.8:
            previous = None
            if rng.random() < 0.5:
                previous = ContractFactory(
                    account=account, ends_on=DAY - timedelta(days=200), recurring_amount=Decimal(rng.randint(1, 90_000))
                )
            contract = ContractFactory(
                account=account,
                ends_on=DAY + timedelta(days=rng.randint(-30, 400)),
                recurring_amount=Decimal(rng.randint(1, 90_000)),
                previous=previous,
            )
            if rng.random() < 0.7:
                stage = rng.choice(list(Renewal.Stage.values))
                RenewalFactory(
                    contract=contract,
                    stage=stage,
                    closed_on=DAY + timedelta(days=rng.randint(-20, 20)) if stage in Renewal.CLOSED_STAGES else None,
                )
    return accounts


def test_the_sql_gives_exactly_the_python_formula_on_varied_data(alice) -> None:
    program = ProgramFactory(name="Tiered", health_check_cadence_days=45)
    own = HealthModel.objects.create(name="Tiered", program=program, green_min=80, yellow_min=50)
    for kind, weight, worst, best in HealthComponent.DEFAULTS:
        HealthComponent.objects.create(model=own, kind=kind, weight=(weight * 3) % 17, worst=worst, best=best)
    accounts = _varied_book(random.Random(7), program, alice)

    nightly.recalculate_health(day=DAY, chunk_size=5)

    default, by_program = scoring.model_specs()
    stored = {row.account_id: row for row in HealthScore.objects.all()}
    for account in accounts:
        spec = by_program.get(account.program_id, default)
        inputs = scoring.gather_inputs(account, day=DAY)
        expected = scoring.score_inputs(inputs.values, spec)
        row = stored.get(account.pk)
        if expected.score is None:
            assert row is None
            continue
        assert row.score == expected.score, account
        assert row.band == spec.band(expected.score)
        assert row.model_id == spec.model_id
        assert row.check_overdue == inputs.check_overdue
        for kind in scoring.KINDS:
            got, want = row.components[kind], expected.components[kind]
            for key in ("input", "score", "weight", "contribution"):
                if want[key] is None:
                    assert got[key] is None, (account, kind, key)
                else:
                    assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12), (account, kind, key)
            for key, value in inputs.details.get(kind, {}).items():
                assert got[key] == pytest.approx(value) if isinstance(value, float) else got[key] == value
    assert len(stored) >= 18


def test_a_missing_input_is_stored_as_missing_with_its_weight_spread(healthy_account) -> None:
    nightly.recalculate_health(day=DAY)
    row = HealthScore.objects.get(account=healthy_account)
    onboarding = row.components["onboarding"]
    assert onboarding["input"] is None
    assert onboarding["score"] is None
    assert onboarding["weight"] == 0
    assert onboarding["contribution"] == 0
    present = [part for part in row.components.values() if part["input"] is not None]
    assert sum(part["weight"] for part in present) == pytest.approx(100.0)


def test_an_account_without_any_input_gets_no_score_rather_than_zero(alice, program) -> None:
    AccountFactory(owner=alice, program=program)
    assert nightly.recalculate_health(day=DAY) == 0
    assert not HealthScore.objects.exists()


def test_churned_accounts_are_not_scored(healthy_account) -> None:
    Account.objects.filter(pk=healthy_account.pk).update(lifecycle_stage=Account.Stage.CHURNED)
    assert nightly.recalculate_health(day=DAY) == 0


def test_more_active_licenses_give_a_higher_stored_score(alice, program) -> None:
    low, high = AccountFactory(owner=alice, program=program), AccountFactory(owner=alice, program=program)
    give_usage(low, active=4)
    give_usage(high, active=24)
    nightly.recalculate_health(day=DAY)
    assert HealthScore.objects.get(account=high).score > HealthScore.objects.get(account=low).score


def test_a_program_with_its_own_model_is_scored_by_it(healthy_account, program) -> None:
    own = HealthModel.objects.create(name="Only sentiment", program=program, green_min=90, yellow_min=60)
    HealthComponent.objects.create(model=own, kind="sentiment", weight=1, worst=1, best=5)
    give_check(healthy_account, sentiment=3, days_ago=1)
    nightly.recalculate_health(day=DAY)
    row = HealthScore.objects.get(account=healthy_account)
    assert row.model_id == own.pk
    assert (row.score, row.band) == (50, "red")


def test_statements_grow_with_chunks_not_accounts(alice, program) -> None:
    for _ in range(12):
        give_usage(AccountFactory(owner=alice, program=program))
    ids = list(Account.objects.values_list("pk", flat=True))
    span = max(ids) - min(ids) + 1

    def statements(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            nightly.recalculate_health(day=DAY, chunk_size=chunk_size, notify=False)
        return len([q for q in queries.captured_queries if "INSERT INTO" in q["sql"]])

    def all_statements(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            nightly.recalculate_health(day=DAY, chunk_size=chunk_size, notify=False)
        return len(queries)

    chunks = -(-span // 4)
    assert statements(span) == 1
    assert statements(4) == chunks
    one_chunk = all_statements(span)
    # A handful of lookups (models, id bounds, the month partitions on PostgreSQL, the previous
    # day: in the last 35 days, then in all history when there is none, as here) and the chunk's own.
    assert one_chunk <= 12
    # Each further chunk adds the same few statements (savepoint, settings, clear, insert, release),
    # whatever it holds.
    assert all_statements(4) - one_chunk <= 5 * (chunks - 1)
