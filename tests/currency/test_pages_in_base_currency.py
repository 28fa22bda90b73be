"""Every total on the pages: in the base currency at stated rates, or per currency, never a raw mixed sum."""

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def on_day():
    cache.clear()
    with time_machine.travel(DAY, tick=False):
        yield


def committed_column(html: str) -> str:
    return re.search(r'id="col-committed">Committed</h2>\s*<span[^>]*>(.*?)</span>\s*</header>', html, re.S).group(1)


def test_the_board_totals_a_mixed_column_at_the_stated_rate(client, alice, mixed_book, jpy_rate) -> None:
    client.force_login(alice)
    html = client.get(reverse("renewals:renewal-board")).content.decode()
    assert "$100.67" in committed_column(html)
    assert "Column totals in USD at rates as of 15 Jun 2026" in html


def test_without_a_rate_the_board_shows_each_currency(client, alice, mixed_book) -> None:
    client.force_login(alice)
    column = committed_column(client.get(reverse("renewals:renewal-board")).content.decode())
    assert "$100.00" in column
    assert "¥100" in column
    assert "200" not in column


def test_the_renewal_list_stage_totals_convert_or_list_per_currency(client, alice, mixed_book, jpy_rate) -> None:
    client.force_login(alice)
    response = client.get(reverse("renewals:renewal-list"))
    committed = next(t for t in response.context["totals"] if t["stage"] == "committed")
    assert committed["amount"].amount == Decimal("100.67")


def test_the_account_page_converts_contracts_in_two_currencies(client, alice, acme, mixed_book, jpy_rate) -> None:
    ContractFactory(account=acme, currency="JPY", recurring_amount=Decimal("100"), ends_on=date(2026, 12, 31))
    client.force_login(alice)
    html = client.get(reverse("front:account-detail", args=[acme.pk])).content.decode()
    assert "$100.67" in html
    assert "1 JPY = 0.0067 USD" in html


def test_without_a_rate_the_account_page_lists_each_currency(client, alice, acme, mixed_book) -> None:
    ContractFactory(account=acme, currency="JPY", recurring_amount=Decimal("100"), ends_on=date(2026, 12, 31))
    client.force_login(alice)
    html = client.get(reverse("front:account-detail", args=[acme.pk])).content.decode()
    dd = re.search(r"<dt>Recurring revenue</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert "$100.00" in dd
    assert "¥100" in dd
    assert "200" not in dd


def test_the_account_list_and_export_show_each_account_in_its_currency(client, alice, acme, mixed_book) -> None:
    ContractFactory(account=acme, currency="JPY", recurring_amount=Decimal("5"), ends_on=date(2026, 12, 31))
    client.force_login(alice)
    html = client.get(reverse("front:account-list")).content.decode()
    assert "¥100" in html  # Tokyo Co
    assert "several currencies" in html  # Acme: USD 100 and JPY 5, never "105"
    body = b"".join(client.get(reverse("front:account-export")).streaming_content).decode()
    rows = {row[0]: row for row in csv.reader(io.StringIO(body))}
    assert rows["Name"][7:9] == ["Recurring revenue", "Currency"]
    assert rows["Tokyo Co"][7:9] == ["100.00", "JPY"]
    assert rows["Acme"][7:9] == ["", "several"]


def test_the_today_charts_are_in_the_base_currency(client, alice, mixed_book, jpy_rate) -> None:
    client.force_login(alice)
    html = client.get(reverse("front:today-charts")).content.decode()
    pipeline = json.loads(re.search(r'id="pipeline-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert next(s for s in pipeline if s["stage"] == "Committed")["amount"] == pytest.approx(100.67)
    assert "In USD at rates as of 15 Jun 2026" in html


def test_without_a_rate_the_today_charts_leave_the_currency_out_and_say_so(client, alice, mixed_book) -> None:
    client.force_login(alice)
    html = client.get(reverse("front:today-charts")).content.decode()
    pipeline = json.loads(re.search(r'id="pipeline-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert next(s for s in pipeline if s["stage"] == "Committed")["amount"] == 100.0
    assert "JPY left out (no rate" in html
