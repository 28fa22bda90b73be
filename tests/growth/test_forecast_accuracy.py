"""The forecast-accuracy report: both calls against each closed renewal's outcome (docs/domain.md §11)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from growth import services
from growth.models import Checkpoint
from renewals import services as renewal_services
from renewals.models import ReasonCode
from tests.factories import AccountFactory, HealthScoreFactory

pytestmark = pytest.mark.django_db

ENDS = date(2026, 12, 31)
T90 = ENDS - timedelta(days=90)


@pytest.fixture
def closed_book(acme, globex, alice, bob, carol, program):
    initech = AccountFactory(name="Initech", owner=alice, program=program)
    terms = {}
    for account, band in ((acme, "green"), (globex, "red"), (initech, "red")):
        terms[account.name] = renewal_services.create_contract(
            account=account, starts_on=date(2026, 1, 1), ends_on=ENDS, amount=Decimal("10000"), by=account.owner
        )
        HealthScoreFactory(account=account, day=T90, score=80 if band == "green" else 30, band=band)
    services.record_checkpoints(today=T90)
    calls = {cp.account.name: cp for cp in Checkpoint.objects.select_related("account")}
    assert {name: cp.auto_call for name, cp in calls.items()} == {
        "Acme": "likely", "Globex": "at_risk", "Initech": "at_risk",
    }  # fmt: skip
    now = timezone.now()
    services.record_csm_call(calls["Acme"], call="at_risk", note="Quiet sponsor", by=alice, today=T90, now=now)
    services.record_csm_call(calls["Globex"], call="will_churn", note="Moving off", by=bob, today=T90, now=now)
    # Outcomes: Acme renews, Globex is lost, Initech downgrades.
    day = ENDS - timedelta(days=10)
    next_end = date(2027, 12, 31)
    renewal_services.renew_contract(terms["Acme"], ends_on=next_end, amount=Decimal("10000"), by=alice, today=day)
    lost = ReasonCode.objects.get_or_create(code="price", defaults={"label": "Price"})[0]
    renewal_services.mark_renewal_lost(terms["Globex"].renewal, reason=lost, notes="", by=bob, today=day)
    renewal_services.renew_contract(
        terms["Initech"], ends_on=date(2027, 12, 31), amount=Decimal("8000"), by=alice, today=day, reason=lost
    )
    return calls


def figures(row) -> tuple:
    return (row.label, row.checkpoints, row.csm_calls, row.csm_right, row.csm_accuracy,
            row.auto_accuracy_on_called, row.auto_accuracy, row.disagreements)  # fmt: skip


def test_the_report_per_csm_and_overall(client, carol, closed_book) -> None:
    client.force_login(carol)
    response = client.get(reverse("growth:accuracy"))
    assert response.status_code == 200
    report = response.context["report"]
    assert [figures(row) for row in report["per_csm"]] == [
        ("Alice", 2, 1, 0, 0.0, 100.0, 100.0, 1),
        ("Bob", 1, 1, 1, 100.0, 0.0, 0.0, 1),
    ]
    assert figures(report["overall"]) == ("Overall", 3, 2, 1, 50.0, 50.0, 66.7, 2)
    assert [figures(row) for row in report["per_point"]] == [("T-90", 3, 2, 1, 50.0, 50.0, 66.7, 2)]
    assert "66.7%" in response.content.decode()


def test_a_csm_sees_only_their_own_book(client, alice, closed_book) -> None:
    client.force_login(alice)
    report = client.get(reverse("growth:accuracy")).context["report"]
    assert [row.label for row in report["per_csm"]] == ["Alice"]
    assert figures(report["overall"]) == ("Overall", 2, 1, 0, 0.0, 100.0, 100.0, 1)


def test_open_renewals_are_not_counted(alice, acme) -> None:
    renewal_services.create_contract(
        account=acme, starts_on=date(2026, 1, 1), ends_on=ENDS, amount=Decimal("10000"), by=alice
    )
    services.record_checkpoints(today=T90)
    from growth.reports import forecast_accuracy

    assert figures(forecast_accuracy(Checkpoint.objects.all())["overall"]) == ("Overall", 0, 0, 0, None, None, None, 0)
