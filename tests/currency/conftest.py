from datetime import date
from decimal import Decimal

import pytest

from renewals.models import ExchangeRate
from tests.factories import AccountFactory, ContractFactory, RenewalFactory, RevenueEntryFactory


@pytest.fixture
def mixed_book(alice, acme):
    """alice's book holds USD 100 (Acme) and JPY 100 (Tokyo Co), as contracts in force and in the ledger."""
    tokyo = AccountFactory(name="Tokyo Co", external_id="TOKYO", owner=alice, program=acme.program)
    acme.contracts.all().delete()
    for account, currency in ((acme, "USD"), (tokyo, "JPY")):
        contract = ContractFactory(
            account=account,
            currency=currency,
            recurring_amount=Decimal("100"),
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
        RenewalFactory(contract=contract, stage="committed", forecast_amount=Decimal("100"), owner=alice)
        RevenueEntryFactory(
            account=account, contract=contract, kind="new", amount=Decimal("100"), currency=currency,
            effective_on=date(2026, 1, 1),
        )  # fmt: skip
    return {"acme": acme, "tokyo": tokyo}


@pytest.fixture
def jpy_rate(db):
    return ExchangeRate.objects.create(currency="JPY", rate=Decimal("0.0067"), effective_from=date(2026, 1, 1))
