from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from renewals import services, signals
from renewals.models import Contract, ReasonCode, Renewal, RenewalNotice, RevenueEntry

from .conftest import NOTICE_DAY, at

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 10)


@pytest.fixture
def renewal(alice_contract) -> Renewal:
    services.plan_renewal_notices(today=NOTICE_DAY, now=at(NOTICE_DAY))
    return Renewal.objects.get(contract=alice_contract)


def reason(code: str) -> ReasonCode:
    return ReasonCode.objects.get(code=code)


def ledger(account) -> list[tuple[str, Decimal, date]]:
    return list(RevenueEntry.objects.filter(account=account).values_list("kind", "amount", "effective_on"))


def test_a_first_contract_is_a_new_logo_and_a_second_an_expansion(acme, alice) -> None:
    first = services.create_contract(
        account=acme, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), amount=Decimal("10000"), by=alice
    )
    services.create_contract(
        account=acme, starts_on=date(2026, 2, 1), ends_on=date(2027, 1, 31), amount=Decimal("2000"), by=alice
    )
    assert first.renewal.stage == Renewal.Stage.UPCOMING
    assert ledger(acme) == [
        ("new", Decimal("10000.00"), date(2026, 1, 1)),
        ("expansion", Decimal("2000.00"), date(2026, 2, 1)),
    ]


def test_renewing_at_a_higher_amount_creates_the_next_term_as_an_expansion(renewal, alice) -> None:
    next_term = services.renew_contract(
        renewal.contract, ends_on=date(2027, 4, 30), amount=Decimal("26000"), by=alice, today=TODAY
    )
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.EXPANDED
    assert renewal.closed_on == TODAY
    assert next_term.previous == renewal.contract
    assert next_term.starts_on == date(2026, 5, 1)
    assert next_term.renewal.stage == Renewal.Stage.UPCOMING
    assert Contract.objects.get(pk=renewal.contract_id).status == Contract.Status.RENEWED
    assert ledger(renewal.contract.account) == [("expansion", Decimal("2000.00"), date(2026, 5, 1))]


def test_renewing_at_the_same_amount_writes_no_ledger_entry(renewal, alice) -> None:
    services.renew_contract(renewal.contract, ends_on=date(2027, 4, 30), amount=Decimal("24000"), by=alice, today=TODAY)
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.RENEWED
    assert ledger(renewal.contract.account) == []


def test_a_downgrade_needs_a_reason(renewal, alice) -> None:
    with pytest.raises(ValidationError, match="reason"):
        services.renew_contract(
            renewal.contract, ends_on=date(2027, 4, 30), amount=Decimal("20000"), by=alice, today=TODAY
        )
    services.renew_contract(
        renewal.contract,
        ends_on=date(2027, 4, 30),
        amount=Decimal("20000"),
        by=alice,
        today=TODAY,
        reason=reason("fewer-seats"),
        notes="Team halved",
    )
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.DOWNGRADED
    assert renewal.reason.code == "fewer-seats"
    assert ledger(renewal.contract.account) == [("contraction", Decimal("-4000.00"), date(2026, 5, 1))]


def test_losing_a_renewal_needs_a_reason_and_records_churn(renewal, alice) -> None:
    with pytest.raises(ValidationError, match="reason"):
        services.mark_renewal_lost(renewal, reason=None, notes="", by=alice, today=TODAY)
    with pytest.raises(ValidationError, match="not a reason"):
        services.mark_renewal_lost(renewal, reason=reason("fewer-seats"), notes="", by=alice, today=TODAY)
    services.mark_renewal_lost(
        renewal, reason=reason("switched-to-competitor"), notes="Went elsewhere", by=alice, today=TODAY
    )
    renewal.refresh_from_db()
    assert renewal.stage == Renewal.Stage.LOST
    assert renewal.reason_notes == "Went elsewhere"
    entry = RevenueEntry.objects.get()
    assert (entry.kind, entry.amount, entry.effective_on) == ("churn", Decimal("-24000.00"), date(2026, 5, 1))
    assert entry.reason.code == "switched-to-competitor"
    assert set(RenewalNotice.objects.values_list("status", flat=True)) == {RenewalNotice.Status.SKIPPED}


def test_a_closed_renewal_cannot_be_closed_again(renewal, alice) -> None:
    services.mark_renewal_lost(renewal, reason=reason("price"), notes="", by=alice, today=TODAY)
    with pytest.raises(ValidationError):
        services.renew_contract(renewal.contract, ends_on=date(2027, 4, 30), amount=Decimal("1"), by=alice, today=TODAY)
    with pytest.raises(ValidationError):
        services.advance_renewal(renewal, stage=Renewal.Stage.COMMITTED, by=alice)


def test_moving_a_stage_tells_the_other_apps(renewal, alice, django_capture_on_commit_callbacks) -> None:
    seen = []

    def receiver(sender, renewal, old_stage, new_stage, by, **kwargs) -> None:
        seen.append((old_stage, new_stage, by))

    signals.renewal_stage_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.advance_renewal(renewal, stage=Renewal.Stage.IN_DISCUSSION, by=alice)
    finally:
        signals.renewal_stage_changed.disconnect(receiver)
    assert seen == [("upcoming", "in_discussion", alice)]
    with pytest.raises(ValidationError):
        services.advance_renewal(renewal, stage=Renewal.Stage.RENEWED, by=alice)


def test_a_mid_term_change_is_an_expansion_or_a_contraction_with_reason(alice_contract, alice) -> None:
    services.change_contract_amount(alice_contract, amount=Decimal("30000"), effective_on=TODAY, by=alice)
    with pytest.raises(ValidationError):
        services.change_contract_amount(alice_contract, amount=Decimal("25000"), effective_on=TODAY, by=alice)
    services.change_contract_amount(
        alice_contract, amount=Decimal("25000"), effective_on=TODAY, by=alice, reason=reason("budget-cut")
    )
    assert [(k, a) for k, a, _ in ledger(alice_contract.account)] == [
        ("expansion", Decimal("6000.00")),
        ("contraction", Decimal("-5000.00")),
    ]


def test_without_a_forecast_the_uplift_sets_it(renewal, alice) -> None:
    services.update_renewal(
        renewal, by=alice, forecast_amount=None, uplift_pct=Decimal("7"), probability=80, close_date=None, owner=alice
    )
    renewal.refresh_from_db()
    assert renewal.forecast_amount == Decimal("25680.00")
    with pytest.raises(ValidationError):
        services.update_renewal(
            renewal,
            by=alice,
            forecast_amount=None,
            uplift_pct=Decimal("0"),
            probability=120,
            close_date=None,
            owner=alice,
        )
