"""An overdue renewal shows on Today, the pipeline and its page; a lapsed one can be renewed late there."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from renewals import lifecycle, services
from renewals.models import Contract, Renewal, RevenueEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(acme, alice) -> Renewal:
    """Acme's contract ended five days ago; the lifecycle job has flagged it."""
    today = timezone.localdate()
    contract = services.create_contract(
        account=acme,
        starts_on=today - timedelta(days=370),
        ends_on=today - timedelta(days=5),
        amount=Decimal("10000"),
        by=alice,
    )
    lifecycle.run_contract_lifecycle(today=today)
    return Renewal.objects.get(contract=contract)


def test_today_lists_the_overdue_renewal_and_its_task(client, alice, overdue) -> None:
    client.force_login(alice)
    response = client.get(reverse("front:today"))
    assert [c.pk for c in response.context["renewals"].rows] == [overdue.contract_id]
    assert "Renewal overdue" in response.content.decode()
    assert any(task.title.startswith("Renewal overdue") for task in response.context["tasks"].rows)


def test_the_pipeline_marks_it_overdue(client, alice, overdue) -> None:
    client.force_login(alice)
    for name in ("renewals:renewal-list", "renewals:renewal-board"):
        assert 'class="badge bad">overdue' in client.get(reverse(name)).content.decode()
    detail = client.get(reverse("renewals:renewal-detail", args=[overdue.pk])).content.decode()
    assert "Renewal overdue" in detail
    assert "lapses on" in detail


def test_a_lapsed_renewal_is_renewed_late_from_its_page(client, alice, overdue) -> None:
    contract = overdue.contract
    lifecycle.run_contract_lifecycle(today=timezone.localdate() + timedelta(days=30))
    assert RevenueEntry.objects.filter(kind="churn").count() == 1
    client.force_login(alice)
    url = reverse("renewals:renewal-detail", args=[overdue.pk])
    assert "Renew late" in client.get(url).content.decode()
    response = client.post(
        reverse("renewals:renewal-renew", args=[overdue.pk]),
        {"ends_on": str(contract.ends_on + timedelta(days=365)), "amount": "10000"},
    )
    assert response.status_code == 302
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.RENEWED
    assert sum(RevenueEntry.objects.filter(kind="churn").values_list("amount", flat=True)) == 0


def test_the_board_shows_what_closed_in_the_last_90_days_by_default(client, alice, acme) -> None:
    today = timezone.localdate()
    recent, old = (
        services.create_contract(
            account=acme,
            starts_on=today - timedelta(days=300),
            ends_on=today + timedelta(days=60),
            amount=Decimal("100"),
            by=alice,
        )
        for _ in range(2)
    )
    services.renew_contract(recent, ends_on=today + timedelta(days=400), amount=Decimal("100"), by=alice, today=today)
    services.renew_contract(
        old, ends_on=today + timedelta(days=400), amount=Decimal("100"), by=alice, today=today - timedelta(days=91)
    )
    client.force_login(alice)
    columns = {c["stage"]: c["cards"] for c in client.get(reverse("renewals:renewal-board")).context["columns"]}
    assert [r.contract_id for r in columns["renewed"]] == [recent.pk]
    assert len(columns["upcoming"]) == 2  # the two next terms
