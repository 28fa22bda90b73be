"""Helpers for the UI tests: grow a book of accounts with everything the pages show."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from playbooks.models import Milestone, Objective, SuccessPlan
from renewals.models import Renewal, RenewalNotice
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    HealthScoreFactory,
    OnboardingItemFactory,
    RenewalFactory,
    RevenueEntryFactory,
    TaskFactory,
    TouchpointFactory,
)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def fill_account(account: Account, *, today: date | None = None, extra: int = 1) -> Account:
    """Give an account what the Today page and the account page list: ``extra`` of each."""
    today = today or timezone.localdate()
    for i in range(extra):
        ContactFactory(account=account, is_decision_maker=True, is_primary=i == 0)
        contract = ContractFactory(account=account, ends_on=today + timedelta(days=20 + i))
        renewal = RenewalFactory(contract=contract, stage=Renewal.Stage.NOTIFIED)
        contact = account.contacts.first()
        RenewalNotice.objects.create(
            contract=contract,
            renewal=renewal,
            contact=contact,
            cycle="first",
            email=contact.email,
            status=RenewalNotice.Status.SENT,
            scheduled_on=today,
        )
        RevenueEntryFactory(
            account=account, contract=contract, kind="new", amount=contract.recurring_amount, effective_on=today
        )
        TouchpointFactory(account=account, occurred_at=at(today - timedelta(days=200 + i)), by=account.owner)
        TaskFactory(account=account, assignee=account.owner, title=f"Call {i}", due_on=today - timedelta(days=1))
        OnboardingItemFactory(account=account, title=f"Step {i}", due_on=today - timedelta(days=3))
        plan, _ = SuccessPlan.objects.get_or_create(account=account)
        objective = Objective.objects.create(plan=plan, title=f"Objective {i}")
        Milestone.objects.create(objective=objective, title=f"Milestone {i}", due_on=today)
    HealthScoreFactory(account=account, day=today - timedelta(days=1), score=55, band="yellow")
    HealthScoreFactory(account=account, day=today, score=35, band="red", previous_score=55,
                               previous_band="yellow", score_drop=20, band_worsened=True, flagged=True)  # fmt: skip
    return account


@pytest.fixture
def grow_book():
    def grow(owner, count: int, *, extra: int = 1) -> list[Account]:
        return [fill_account(AccountFactory(owner=owner, program=owner_program()), extra=extra) for _ in range(count)]

    return grow


def owner_program():
    from tests.factories import ProgramFactory

    return ProgramFactory(name="Professional", renewal_notice_lead_days=60)
