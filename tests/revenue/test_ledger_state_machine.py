"""Random sequences of the real contract services keep the ledger reconciled with the contracts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from renewals import lifecycle, reconcile, services
from renewals.models import Contract, ReasonCode, Renewal, RevenueEntry
from tests.factories import AccountFactory, ProgramFactory, UserFactory

START = date(2026, 1, 1)
amounts = st.integers(min_value=1, max_value=5000).map(Decimal)


class Ledger(RuleBasedStateMachine):
    @initialize()
    def begin(self) -> None:
        self.atomic = transaction.atomic()
        self.atomic.__enter__()  # each example rolls back to a savepoint
        self.today = START
        self.user = UserFactory()
        self.programs = [ProgramFactory(renewal_grace_days=g) for g in (5, 30)]
        self.accounts = [AccountFactory(owner=self.user, program=self.programs[0]) for _ in range(2)]
        self.reason = ReasonCode.objects.get(code="price")

    def teardown(self) -> None:
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    def _active(self, index: int) -> Contract | None:
        contracts = list(Contract.objects.active().filter(renewal__stage__in=Renewal.OPEN_STAGES).order_by("pk"))
        return contracts[index % len(contracts)] if contracts else None

    @rule(account=st.integers(0, 1), amount=amounts, auto=st.booleans(), currency=st.sampled_from(["USD", "JPY"]))
    def create(self, account: int, amount: Decimal, auto: bool, currency: str) -> None:
        services.create_contract(
            account=self.accounts[account],
            starts_on=self.today,
            ends_on=self.today + timedelta(days=60),
            amount=amount,
            by=self.user,
            auto_renew=auto,
            currency=currency,
        )

    @rule(index=st.integers(0, 9), amount=amounts)
    def change_amount(self, index: int, amount: Decimal) -> None:
        contract = self._active(index)
        if contract and contract.ends_on >= self.today >= contract.starts_on:
            services.change_contract_amount(
                contract, amount=amount, effective_on=self.today, by=self.user, reason=self.reason
            )

    @rule(index=st.integers(0, 9), amount=amounts)
    def renew(self, index: int, amount: Decimal) -> None:
        contract = self._active(index)
        if contract:
            services.renew_contract(
                contract,
                ends_on=contract.ends_on + timedelta(days=60),
                amount=amount,
                by=self.user,
                today=self.today,
                reason=self.reason,
            )

    @rule(index=st.integers(0, 9))
    def lose(self, index: int) -> None:
        contract = self._active(index)
        if contract:
            services.mark_renewal_lost(contract.renewal, reason=self.reason, notes="", by=self.user, today=self.today)

    @rule(index=st.integers(0, 9), amount=amounts)
    def renew_late(self, index: int, amount: Decimal) -> None:
        lapsed = list(Contract.objects.filter(status=Contract.Status.EXPIRED, renewal__reason__code="lapsed"))
        if lapsed:
            contract = lapsed[index % len(lapsed)]
            if services.lapse_to_reverse(contract, contract.renewal) is not None:
                services.renew_contract(
                    contract,
                    ends_on=contract.ends_on + timedelta(days=60),
                    amount=amount,
                    by=self.user,
                    today=self.today,
                    reason=self.reason,
                )

    @rule(index=st.integers(0, 9), currency=st.sampled_from(["USD", "JPY", "EUR"]))
    def change_currency(self, index: int, currency: str) -> None:
        contract = self._active(index)
        if contract:
            services.correct_contract_currency(contract, currency=currency, by=self.user)

    @rule(account=st.integers(0, 1), program=st.integers(0, 1))
    def change_program(self, account: int, program: int) -> None:
        Contract.objects.filter(account=self.accounts[account], status=Contract.Status.ACTIVE).update(
            program=self.programs[program]
        )

    @rule(days=st.integers(1, 40))
    def days_pass(self, days: int) -> None:
        for _ in range(days):
            self.today += timedelta(days=1)
            lifecycle.run_contract_lifecycle(today=self.today)

    @invariant()
    def reconciled(self) -> None:
        if not hasattr(self, "atomic"):
            return
        for day in (self.today, self.today - timedelta(days=15), self.today + timedelta(days=15)):
            assert reconcile.differences(on=day) == [], day
        # The balance: an account's RR is never negative, and every reversal cancels its entry exactly.
        for total in RevenueEntry.objects.values("account_id", "currency").annotate(t=Sum("amount")):
            assert total["t"] >= 0
        for entry in RevenueEntry.objects.filter(reverses__isnull=False).select_related("reverses"):
            assert entry.amount == -entry.reverses.amount


@pytest.mark.django_db
def test_the_ledger_reconciles_after_every_step() -> None:
    run_state_machine_as_test(Ledger, settings=settings(max_examples=15, stateful_step_count=12, deadline=None))
