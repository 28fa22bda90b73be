import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import AccountFactory, RevenueEntryFactory

pytestmark = pytest.mark.django_db


def export(client, user) -> list[list[str]]:
    client.force_login(user)
    response = client.get("/metrics/ledger.csv", {"period": "quarter", "on": "2026-03-15"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_lists_the_periods_entries_of_the_book(client, alice, bob, worked_example, globex) -> None:
    RevenueEntryFactory(account=globex, kind="new", amount=Decimal("999"), effective_on=date(2026, 2, 1))
    rows = export(client, alice)
    assert rows[0][:5] == ["effective_on", "account_external_id", "account_name", "kind", "amount"]
    assert [(r[1], r[3], r[4]) for r in rows[1:]] == [
        ("HOOLI", "new", "45.00"),
        ("ACME", "expansion", "5.00"),
        ("INITECH", "churn", "-25.00"),
        ("ACME", "contraction", "-5.00"),
    ]
    assert sum(Decimal(r[4]) for r in rows[1:]) == Decimal("20")


def test_text_that_looks_like_a_formula_is_neutralised(client, alice, acme) -> None:
    evil = AccountFactory(name='=HYPERLINK("http://x")', external_id="+EVIL", owner=alice, program=acme.program)
    RevenueEntryFactory(account=evil, kind="new", amount=Decimal("10"), effective_on=date(2026, 2, 1),
                                note="@SUM(A1)")  # fmt: skip
    row = export(client, alice)[1]
    assert row[1] == "'+EVIL"
    assert row[2] == '\'=HYPERLINK("http://x")'
    assert row[-1] == "'@SUM(A1)"
    assert row[4] == "10.00"
