"""The eight success metrics, each from its own source, for one period and one book."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from metrics import report as metrics
from playbooks.models import Milestone, Objective, SuccessPlan
from tests.factories import (
    AccountFactory,
    ContractFactory,
    HealthScoreFactory,
    OnboardingItemFactory,
    RenewalFactory,
    TouchpointFactory,
    UsageSnapshotFactory,
)

pytestmark = pytest.mark.django_db

Q1 = metrics.period_containing("quarter", date(2026, 2, 1))


def by_key(user) -> dict:
    accounts = metrics.scoped_accounts(user)
    book = metrics.revenue_book(accounts, Q1)
    return {m.key: m for m in metrics.success_metrics(accounts, Q1, book)}


def test_the_eight_metrics_come_in_domain_order_with_adoption_and_health_in_depth(alice, acme) -> None:
    assert [m.name for m in by_key(alice).values()] == [
        "Onboard", "Adoption", "Adoption milestones", "Advanced users", "Success", "Availability",
        "Engagement quality", "Retention", "Health", "Health bands (% green)", "Net Recurring Revenue",
    ]  # fmt: skip


def test_onboard_counts_new_customers_whose_checklist_is_complete(alice, acme, globex) -> None:
    other = AccountFactory(owner=alice, program=acme.program)
    OnboardingItemFactory(account=acme, title="Access", due_on=date(2026, 1, 10), completed_on=date(2026, 1, 9))
    OnboardingItemFactory(account=acme, title="First value", due_on=date(2026, 2, 10), completed_on=date(2026, 2, 1))
    OnboardingItemFactory(account=other, title="Access", due_on=date(2026, 3, 1))
    OnboardingItemFactory(account=globex, title="Access", due_on=date(2026, 3, 1), completed_on=date(2026, 3, 1))
    metric = by_key(alice)["onboard"]
    assert (metric.numerator, metric.denominator, metric.value) == (1, 2, Decimal("50.0"))


def test_adoption_is_licenses_active_over_purchased_in_the_period(alice, acme) -> None:
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 5), licenses_purchased=100, licenses_active=60)
    UsageSnapshotFactory(account=acme, date=date(2026, 3, 5), licenses_purchased=100, licenses_active=80)
    UsageSnapshotFactory(account=acme, date=date(2026, 4, 5), licenses_purchased=100, licenses_active=0)
    assert by_key(alice)["adoption"].value == Decimal("70.0")


def test_availability_averages_the_period_snapshots(alice, acme) -> None:
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 5), availability_pct=Decimal("99.00"))
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 6), availability_pct=Decimal("97.00"))
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 7), availability_pct=None)
    assert by_key(alice)["availability"].value == Decimal("98.00")


def test_success_counts_customers_who_reached_every_milestone_due(alice, acme) -> None:
    other = AccountFactory(owner=alice, program=acme.program)
    for account, statuses in ((acme, ["reached", "reached"]), (other, ["reached", "missed"])):
        objective = Objective.objects.create(plan=SuccessPlan.objects.create(account=account), title="Go live")
        for status in statuses:
            Milestone.objects.create(objective=objective, title="m", due_on=date(2026, 2, 1), status=status)
    assert by_key(alice)["success"].value == Decimal("50.0")


def test_engagement_quality_is_the_share_of_positive_touchpoints(alice, acme) -> None:
    when = datetime(2026, 2, 1, 10, tzinfo=UTC)
    for outcome in ("positive", "positive", "positive", "negative"):
        TouchpointFactory(account=acme, outcome=outcome, occurred_at=when)
    TouchpointFactory(account=acme, outcome="negative", occurred_at=datetime(2025, 12, 1, 10, tzinfo=UTC))
    assert by_key(alice)["engagement_quality"].value == Decimal("75.0")


def test_retention_is_the_share_of_renewals_committed_or_renewed(alice, acme) -> None:
    for stage in ("committed", "renewed", "lost", "in_discussion"):
        contract = ContractFactory(account=acme, ends_on=date(2026, 3, 1))
        RenewalFactory(contract=contract, stage=stage)
    RenewalFactory(contract=ContractFactory(account=acme, ends_on=date(2026, 6, 1)), stage="lost")
    metric = by_key(alice)["retention"]
    assert (metric.numerator, metric.denominator, metric.value) == (2, 4, Decimal("50.0"))


def test_metrics_with_nothing_to_measure_say_no_data(alice, acme) -> None:
    values = {key: metric.value for key, metric in by_key(alice).items()}
    assert values["adoption"] is None
    assert values["engagement_quality"] is None
    assert values["health_green"] is None  # no scores yet
    assert values["health"] is None  # none of its four rates has data
    assert values["adoption_milestones"] is None
    assert values["advanced_users"] is None


def test_filters_narrow_to_one_segment(alice, acme) -> None:
    smb = AccountFactory(owner=alice, program=acme.program, segment="smb")
    UsageSnapshotFactory(account=smb, date=date(2026, 1, 5), licenses_purchased=10, licenses_active=10)
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 5), licenses_purchased=10, licenses_active=0)
    accounts = metrics.scoped_accounts(alice, segment="smb")
    assert metrics.adoption(accounts, Q1).value == Decimal("100.0")


def test_health_bands_is_the_share_of_accounts_green_on_their_latest_score(alice, acme) -> None:
    other = AccountFactory(owner=alice, program=acme.program)
    HealthScoreFactory(account=acme, day=date(2026, 2, 1), score=40, band="red")
    HealthScoreFactory(account=acme, day=date(2026, 3, 1), score=85, band="green")
    HealthScoreFactory(account=acme, day=date(2026, 4, 2), score=30, band="red")  # after Q1: ignored
    HealthScoreFactory(account=other, day=date(2026, 3, 20), score=50, band="yellow")
    metric = by_key(alice)["health_green"]
    assert (metric.numerator, metric.denominator, metric.value) == (1, 2, Decimal("50.0"))


def test_health_is_the_mean_of_adoption_success_retention_and_the_recurring_revenue_rate(alice, acme) -> None:
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 5), licenses_purchased=100, licenses_active=60)  # 60 %
    objective = Objective.objects.create(plan=SuccessPlan.objects.create(account=acme), title="Go live")
    Milestone.objects.create(objective=objective, title="m", due_on=date(2026, 2, 1), status="reached")  # 100 %
    for stage in ("renewed", "lost"):  # 50 %
        RenewalFactory(contract=ContractFactory(account=acme, ends_on=date(2026, 3, 1)), stage=stage)
    metric = by_key(alice)["health"]
    # No ledger entries: the Recurring Revenue Rate has no base and is left out.
    assert metric.value == Decimal("70.0")
    assert metric.extra["parts"] == {
        "adoption": Decimal("60.0"), "success": Decimal("100.0"), "retention": Decimal("50.0"),
        "recurring_revenue_rate": None,
    }  # fmt: skip
    assert "no data for recurring revenue rate" in metric.detail


def test_a_recurring_revenue_rate_above_100_counts_as_100_in_health() -> None:
    metric = metrics.health(
        {"adoption": Decimal("50"), "success": None, "retention": None, "recurring_revenue_rate": Decimal("120")}
    )
    assert metric.value == Decimal("75.0")


def test_adoption_milestones_count_only_the_milestones_marked_adoption(alice, acme) -> None:
    objective = Objective.objects.create(plan=SuccessPlan.objects.create(account=acme), title="Roll out")
    for status, is_adoption in (("reached", True), ("missed", True), ("planned", True), ("missed", False)):
        Milestone.objects.create(
            objective=objective, title="m", due_on=date(2026, 2, 1), status=status, is_adoption=is_adoption
        )
    metric = by_key(alice)["adoption_milestones"]
    assert (metric.numerator, metric.denominator, metric.value) == (1, 3, Decimal("33.3"))


def test_advanced_users_are_the_share_of_basic_plus_advanced_user_days(alice, acme) -> None:
    UsageSnapshotFactory(account=acme, date=date(2026, 1, 5), basic_users=30, advanced_users=10)
    UsageSnapshotFactory(account=acme, date=date(2026, 2, 5), basic_users=30, advanced_users=30)
    UsageSnapshotFactory(account=acme, date=date(2026, 5, 5), basic_users=0, advanced_users=99)  # after Q1
    metric = by_key(alice)["advanced_users"]
    assert (metric.numerator, metric.denominator, metric.value) == (40, 100, Decimal("40.0"))
    assert metric.extra["basic_pct"] == Decimal("60.0")
