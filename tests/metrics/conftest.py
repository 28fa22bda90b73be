# ruff: noqa: RUF002  (real minus signs, as docs/domain.md and the page write them)
from datetime import date
from decimal import Decimal

import pytest

from renewals.models import ReasonCode
from tests.factories import AccountFactory, RevenueEntryFactory


@pytest.fixture
def worked_example(alice, acme):
    """The worked example of docs/domain.md in Q1 2026, all in alice's book.

    Start of Q1: $100 (Acme $75, Initech $25). In Q1: +$45 new (Hooli), +$5 expansion (Acme),
    −$25 churn (Initech), −$5 downgrade (Acme). End of Q1: $120.
    """
    initech = AccountFactory(name="Initech", external_id="INITECH", owner=alice, program=acme.program)
    hooli = AccountFactory(name="Hooli", external_id="HOOLI", owner=alice, program=acme.program)
    # The renewals migration seeds the usual reason codes; reuse them when present.
    budget = ReasonCode.objects.get_or_create(code="budget-cut", defaults={"label": "Budget cut"})[0]
    seats = ReasonCode.objects.get_or_create(code="fewer-seats", defaults={"label": "Fewer seats needed"})[0]

    def entry(account, kind, amount, day, reason=None):
        return RevenueEntryFactory(account=account, kind=kind, amount=Decimal(amount), effective_on=day, reason=reason)

    entry(acme, "new", "75", date(2025, 6, 1))
    entry(initech, "new", "25", date(2025, 12, 31))
    entry(hooli, "new", "45", date(2026, 2, 1))
    entry(acme, "expansion", "5", date(2026, 2, 15))
    entry(initech, "churn", "-25", date(2026, 3, 1), budget)
    entry(acme, "contraction", "-5", date(2026, 3, 31), seats)
    # Outside the quarter: must not count.
    entry(hooli, "expansion", "1000", date(2026, 4, 1))
    return {"acme": acme, "initech": initech, "hooli": hooli}
