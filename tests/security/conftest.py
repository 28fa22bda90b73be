"""Fixtures for the security tests: alice's book, rich enough that every kind of row exists.

Every string that would reveal alice's book to someone else carries the marker
``Aliceonly`` so a page or API answer can be searched for it.
"""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import HealthScore
from csm import roles
from growth.models import Checkpoint, Opportunity, Suggestion
from playbooks.models import (
    EntitlementUse,
    Handoff,
    Milestone,
    Objective,
    PlaybookRule,
    PlaybookRun,
    SuccessPlan,
)
from renewals.models import ReasonCode, RenewalNotice, RevenueEntry
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    HealthCheckFactory,
    HealthScoreFactory,
    OnboardingItemFactory,
    RenewalFactory,
    RevenueEntryFactory,
    TaskFactory,
    TeamFactory,
    TouchpointFactory,
    UsageSnapshotFactory,
    UserFactory,
)

MARKER = "Aliceonly"
# What a search for alice's account types: echoed back, it must not count as a leak.
SEARCH_WORD = "Zebrawidgets"


@pytest.fixture
def mallory(db):
    """A manager of another team: sees her team's books, not alice's."""
    mallory = UserFactory(username="mallory", first_name="Mallory", role=roles.MANAGER)
    team = TeamFactory(name="South", manager=mallory)
    team.members.add(UserFactory(username="dave", role=roles.CSM))
    return mallory


@pytest.fixture
def book(alice, bob, carol, rita, mallory, program, globex) -> SimpleNamespace:
    """alice's account with one row of every kind that hangs off an account."""
    today = timezone.localdate()
    account = AccountFactory(
        name=f"{MARKER} {SEARCH_WORD}", external_id=f"{MARKER.upper()}-1", owner=alice, program=program
    )
    contact = ContactFactory(
        account=account,
        name=f"{MARKER} Buyer",
        email="buyer@aliceonly.test",
        is_decision_maker=True,
        is_primary=True,
    )
    contract = ContractFactory(
        account=account,
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=65),
        recurring_amount=Decimal("987654.32"),
    )
    # Configuration, not alice's book: everyone may see it, so it carries no marker.
    reason, _ = ReasonCode.objects.get_or_create(code="price", defaults={"label": "Price"})
    renewal = RenewalFactory(contract=contract, owner=alice, forecast_amount=Decimal("987654.32"))
    touchpoint = TouchpointFactory(account=account, contact=contact, by=alice, notes=f"{MARKER} secret call notes")
    usage = UsageSnapshotFactory(account=account, date=today - timedelta(days=1))
    task = TaskFactory(account=account, assignee=alice, title=f"{MARKER} follow-up", due_on=today)
    onboarding = OnboardingItemFactory(
        account=account, owner=alice, title=f"{MARKER} kickoff", due_on=today + timedelta(days=3)
    )
    plan = SuccessPlan.objects.create(account=account, title=f"{MARKER} plan")
    objective = Objective.objects.create(plan=plan, title=f"{MARKER} objective")
    milestone = Milestone.objects.create(
        objective=objective, title=f"{MARKER} milestone", due_on=date(today.year + 1, 1, 15)
    )
    handoff = Handoff.objects.create(
        deal_id=f"{MARKER}-deal", account=account, contract=contract, what_sold=f"{MARKER} bundle", by=alice
    )
    score = HealthScoreFactory(account=account, day=today, score=35, band=HealthScore.Band.RED)
    check = HealthCheckFactory(account=account, held_on=today, sentiment=2, notes=f"{MARKER} check", by=alice)
    notice = RenewalNotice.objects.create(
        contract=contract, renewal=renewal, contact=contact, cycle="60", email=contact.email, scheduled_on=today
    )
    use = EntitlementUse.objects.create(
        account=account, kind=EntitlementUse.Kind.TRAINING, quantity=Decimal("1"), used_on=today, by=alice
    )
    rule = PlaybookRule.objects.create(
        name="Quiet accounts", trigger=PlaybookRule.Trigger.NO_TOUCHPOINT, parameter=30, task_title="Call them"
    )
    run = PlaybookRun.objects.create(rule=rule, account=account, fired_on=today)
    revenue = RevenueEntryFactory(
        account=account, contract=contract, kind=RevenueEntry.Kind.NEW, amount=Decimal("987654.32"), effective_on=today
    )
    opportunity = Opportunity.objects.create(
        account=account, kind="seats", title=f"{MARKER} seats", amount=Decimal("5000"), close_date=today, owner=alice
    )
    suggestion = Suggestion.objects.create(
        account=account, signal="milestone_reached", period="m-1", reason=f"{MARKER} milestone", kind="upsell",
        raised_on=today,
    )  # fmt: skip
    checkpoint = Checkpoint.objects.create(
        renewal=renewal, account=account, days_before=90, recorded_on=today, auto_call="likely",
        auto_reason=f"{MARKER} reason", asked_of=alice,
    )  # fmt: skip
    return SimpleNamespace(
        account=account,
        opportunity=opportunity,
        suggestion=suggestion,
        checkpoint=checkpoint,
        contact=contact,
        contract=contract,
        reason=reason,
        renewal=renewal,
        touchpoint=touchpoint,
        usage=usage,
        task=task,
        onboarding=onboarding,
        plan=plan,
        objective=objective,
        milestone=milestone,
        revenue=revenue,
        handoff=handoff,
        score=score,
        check=check,
        notice=notice,
        use=use,
        rule=rule,
        run=run,
        today=today,
        users={"alice": alice, "bob": bob, "carol": carol, "rita": rita, "mallory": mallory},
    )
