"""Services delivered against entitlements, and the printable statement."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from playbooks import services

pytestmark = pytest.mark.django_db


def test_the_statement_sums_use_in_the_period_against_entitlements(acme, alice, program) -> None:
    program.business_reviews_per_year, program.success_hours = 2, 10
    program.save()
    for day, kind, quantity in (
        (date(2026, 1, 10), "business_review", 1),
        (date(2026, 2, 10), "success_hours", "2.5"),
        (date(2026, 2, 20), "success_hours", 3),
        (date(2025, 6, 1), "business_review", 1),  # before the period
    ):
        services.record_entitlement_use(acme, kind=kind, quantity=Decimal(quantity), used_on=day, by=alice)
    statement = services.service_usage_statement(acme, start=date(2026, 1, 1), end=date(2026, 3, 31))
    lines = {line.kind: (line.entitled, line.used, line.times, line.remaining) for line in statement.lines}
    assert lines["business_review"] == (2, Decimal("1"), 1, Decimal("1"))
    assert lines["success_hours"] == (10, Decimal("5.5"), 2, Decimal("4.5"))
    assert lines["support"][0] is None
    assert len(statement.uses) == 3


def test_a_quantity_must_be_above_zero(acme, alice) -> None:
    with pytest.raises(ValidationError):
        services.record_entitlement_use(
            acme, kind="training", quantity=Decimal("0"), used_on=date(2026, 1, 1), by=alice
        )


def test_the_statement_page_prints_and_hides_others_accounts(client, acme, alice, bob) -> None:
    services.record_entitlement_use(acme, kind="training", quantity=Decimal("1"), used_on=date(2026, 1, 5), by=alice)
    client.force_login(bob)
    assert client.get(f"/playbooks/accounts/{acme.pk}/statement/").status_code == 404
    client.force_login(alice)
    page = client.get(f"/playbooks/accounts/{acme.pk}/statement/?start=2026-01-01&end=2026-01-31").content.decode()
    assert "5 Jan 2026" in page
    assert "css/statement.css" in page
    assert "data-print" in page


def test_recording_a_service_through_the_page(client, acme, alice) -> None:
    client.force_login(alice)
    client.post(
        f"/playbooks/accounts/{acme.pk}/entitlement-uses/",
        {"kind": "business_review", "quantity": "1", "used_on": "2026-02-02", "note": "QBR"},
    )
    assert list(acme.entitlement_uses.values_list("kind", "note")) == [("business_review", "QBR")]
