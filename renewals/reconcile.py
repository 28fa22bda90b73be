"""Reconciliation: recurring revenue from the ledger equals recurring revenue from the contracts in force.

For a day D, per account and currency:

- ledger RR = Σ RevenueEntry.amount effective on or before D;
- contract RR = Σ over contracts in force on D (started by D, and either not yet ended or ended
  with the renewal still open: overdue, not yet lapsed) of the amount on D, i.e. the recurring
  amount less the mid-term changes dated after D.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from .models import Contract, Renewal, RevenueEntry


@dataclass(frozen=True)
class Difference:
    account_id: int
    currency: str
    ledger: Decimal
    contracts: Decimal


def ledger_rr(*, on: date, accounts: QuerySet | None = None) -> dict[tuple[int, str], Decimal]:
    entries = RevenueEntry.objects.all() if accounts is None else RevenueEntry.objects.filter(account__in=accounts)
    rows = entries.filter(effective_on__lte=on).values("account_id", "currency").annotate(t=Sum("amount"))
    return {(row["account_id"], row["currency"]): row["t"] or Decimal("0") for row in rows}


def contract_rr(*, on: date, accounts: QuerySet | None = None) -> dict[tuple[int, str], Decimal]:
    contracts = Contract.objects.all() if accounts is None else Contract.objects.filter(account__in=accounts)
    in_force = contracts.filter(starts_on__lte=on).filter(
        Q(ends_on__gte=on) | Q(status=Contract.Status.ACTIVE, renewal__stage__in=Renewal.OPEN_STAGES)
    )
    later = dict(
        RevenueEntry.objects.filter(
            contract__in=in_force, effective_on__gt=on, kind__in=["expansion", "contraction"], reverses__isnull=True
        )
        .values_list("contract_id")
        .annotate(t=Sum("amount"))
    )
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for pk, account_id, currency, amount in in_force.values_list("pk", "account_id", "currency", "recurring_amount"):
        totals[(account_id, currency)] += amount - (later.get(pk) or Decimal("0"))
    return dict(totals)


def differences(*, on: date, accounts: QuerySet | None = None) -> list[Difference]:
    """Every (account, currency) whose two figures differ on ``on``; empty when the ledger reconciles."""
    ledger, contracts = ledger_rr(on=on, accounts=accounts), contract_rr(on=on, accounts=accounts)
    result = []
    for key in sorted(set(ledger) | set(contracts)):
        a, b = ledger.get(key, Decimal("0")), contracts.get(key, Decimal("0"))
        if a.quantize(Decimal("0.01")) != b.quantize(Decimal("0.01")):
            result.append(Difference(key[0], key[1], a, b))
    return result
