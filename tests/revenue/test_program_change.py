"""Moving an account to another program moves its current contract; the renewal page says so."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account
from renewals import services
from renewals.models import Contract
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def test_the_current_term_follows_the_account_to_its_new_program(client, acme, alice) -> None:
    old = services.create_contract(
        account=acme, starts_on=date(2024, 5, 1), ends_on=date(2025, 4, 30), amount=Decimal("1"), by=alice
    )
    Contract.objects.filter(pk=old.pk).update(status=Contract.Status.RENEWED)
    current = services.create_contract(
        account=acme, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30), amount=Decimal("1"), by=alice
    )
    enterprise = ProgramFactory(name="Enterprise", renewal_notice_lead_days=90)
    acme.program = enterprise
    acme.save()
    assert Contract.objects.get(pk=current.pk).program == enterprise
    assert Contract.objects.get(pk=old.pk).program != enterprise  # history keeps its program
    client.force_login(alice)
    page = client.get(reverse("renewals:renewal-detail", args=[current.renewal.pk])).content.decode()
    assert "Enterprise" in page
    assert "follows the account&#x27;s program" in page or "follows the account's program" in page


def test_saving_an_account_reads_nothing_back_to_see_whether_its_program_moved(acme) -> None:
    """The receiver compares with the program loaded with the row: no SELECT per save."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = Account.objects.get(pk=acme.pk)
    account.name = "Acme Renamed"
    with CaptureQueriesContext(connection) as queries:
        account.save()
    statements = [q["sql"] for q in queries]
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT") and "accounts_account" in sql]
    assert reads == []
