import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from csm.csvcells import safe_cell
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_a_cell_a_spreadsheet_would_run_is_quoted(value) -> None:
    assert safe_cell(value) == "'" + value


def test_ordinary_cells_are_left_alone() -> None:
    assert safe_cell("Acme Corp") == "Acme Corp"
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"


def test_export_lists_the_filtered_book_and_defuses_formulas(client, alice, bob, globex) -> None:
    evil = AccountFactory(name="=cmd|'/C calc'!A0", owner=alice)
    ContractFactory(account=evil, recurring_amount="1234.50", ends_on=timezone.localdate() + timedelta(days=90))
    AccountFactory(name="Quiet", owner=alice)
    client.force_login(alice)
    response = client.get(reverse("front:account-export"), {"q": "cmd"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Name"
    assert len(rows) == 2
    assert rows[1][0] == "'=cmd|'/C calc'!A0"
    assert rows[1][7] == "1234.50"
