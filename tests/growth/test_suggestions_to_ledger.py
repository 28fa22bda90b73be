"""A signal raises its suggestion once; the CSM accepts it; the won opportunity lands in the ledger.

docs/domain.md §10. Through the services, then through the pages and the API.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from growth import services
from growth.models import Opportunity, Suggestion
from metrics import report as metrics
from playbooks.models import EntitlementUse, Milestone, Objective, SuccessPlan
from renewals.models import RevenueEntry
from tests.factories import UsageSnapshotFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def full_licences(account, *, days: int = 35, active: int = 24, purchased: int = 25) -> None:
    for back in range(0, days, 7):
        UsageSnapshotFactory(
            account=account, date=TODAY - timedelta(days=back), licenses_active=active, licenses_purchased=purchased
        )


def test_licences_over_90_percent_for_30_days_raise_one_suggestion_however_often_the_job_runs(acme, globex) -> None:
    full_licences(acme)  # 24 of 25 = 96 % on every weekly snapshot for five weeks
    full_licences(globex, active=22)  # 88 %: not above 90 %

    assert services.raise_suggestions(today=TODAY)["licences_full"] == 1
    assert services.raise_suggestions(today=TODAY)["licences_full"] == 0
    assert services.raise_suggestions(today=TODAY + timedelta(days=1))["licences_full"] == 0  # same quarter

    suggestion = Suggestion.objects.get()
    assert (suggestion.account, suggestion.signal, suggestion.kind) == (acme, "licences_full", "seats")
    assert suggestion.period == "2026-Q2"
    assert "More than 90 % of licences" in suggestion.reason


def test_one_snapshot_at_90_percent_or_less_in_the_window_raises_nothing(acme) -> None:
    full_licences(acme)
    UsageSnapshotFactory(account=acme, date=TODAY - timedelta(days=10), licenses_active=22, licenses_purchased=25)
    assert services.raise_suggestions(today=TODAY)["licences_full"] == 0


def test_less_than_30_days_of_full_use_raises_nothing(acme) -> None:
    full_licences(acme, days=14)
    assert services.raise_suggestions(today=TODAY)["licences_full"] == 0


def test_an_entitlement_used_up_and_a_milestone_reached_each_raise_one(acme, acme_term, alice) -> None:
    acme.program.training_seats = 4
    acme.program.save()
    EntitlementUse.objects.create(account=acme, kind="training", quantity=Decimal("3"), used_on=date(2026, 3, 1))
    # Before the term started: not counted.
    EntitlementUse.objects.create(account=acme, kind="training", quantity=Decimal("5"), used_on=date(2025, 12, 1))
    assert services.raise_suggestions(today=TODAY)["entitlement_used_up"] == 0
    EntitlementUse.objects.create(account=acme, kind="training", quantity=Decimal("1"), used_on=date(2026, 6, 1))

    plan = SuccessPlan.objects.create(account=acme)
    objective = Objective.objects.create(plan=plan, title="Faster month-end close")
    Milestone.objects.create(
        objective=objective, title="Close in 3", due_on=TODAY, status="reached", reached_on=TODAY - timedelta(days=3)
    )

    counts = services.raise_suggestions(today=TODAY)
    assert (counts["entitlement_used_up"], counts["milestone_reached"]) == (1, 1)
    nothing_new = {"licences_full": 0, "entitlement_used_up": 0, "milestone_reached": 0}
    assert services.raise_suggestions(today=TODAY) == nothing_new
    used_up = Suggestion.objects.get(signal="entitlement_used_up")
    assert used_up.kind == "services"
    assert used_up.reason.startswith("4 of 4 training seats used since 01 Jan 2026")


def test_a_dismissed_suggestion_is_not_raised_again(acme, alice) -> None:
    full_licences(acme)
    services.raise_suggestions(today=TODAY)
    services.dismiss_suggestion(Suggestion.objects.get(), by=alice, today=TODAY, note="Budget frozen")
    services.raise_suggestions(today=TODAY + timedelta(days=2))
    assert list(Suggestion.objects.values_list("status", flat=True)) == ["dismissed"]


def test_accepted_then_won_the_expansion_is_in_the_ledger_and_net_recurring_revenue(acme, acme_term, alice) -> None:
    full_licences(acme)
    services.raise_suggestions(today=TODAY)
    suggestion = Suggestion.objects.get()

    opportunity = services.accept_suggestion(
        suggestion, by=alice, today=TODAY, amount=Decimal("6000"), close_date=date(2026, 8, 31), probability=60
    )
    assert (opportunity.kind, opportunity.stage, opportunity.reason) == ("seats", "open", suggestion.reason)
    assert opportunity.weighted_amount == Decimal("3600.00")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.opportunity) == ("accepted", opportunity)
    with pytest.raises(Exception, match="already accepted"):
        services.accept_suggestion(suggestion, by=alice, today=TODAY, amount=Decimal("1"), close_date=TODAY)

    services.win_opportunity(opportunity, by=alice, today=date(2026, 7, 1))

    opportunity.refresh_from_db()
    acme_term.refresh_from_db()
    assert (opportunity.stage, opportunity.probability, opportunity.closed_on) == ("won", 100, date(2026, 7, 1))
    assert acme_term.recurring_amount == Decimal("30000.00")
    entry = opportunity.revenue_entry
    assert (entry.kind, entry.amount, entry.effective_on, entry.contract) == (
        RevenueEntry.Kind.EXPANSION, Decimal("6000.00"), date(2026, 7, 1), acme_term,
    )  # fmt: skip
    # The renewal of the term forecasts the grown amount, and Q3's figures count the expansion once.
    assert acme_term.renewal.forecast_amount == Decimal("30000.00")
    q3 = metrics.period_containing("quarter", date(2026, 8, 1))
    figures = metrics.revenue_figures(metrics.scoped_accounts(alice), q3)
    assert (figures.existing_rr, figures.expansion, figures.end_rr) == (
        Decimal("24000.00"), Decimal("6000.00"), Decimal("30000.00"),
    )  # fmt: skip
    with pytest.raises(Exception, match="already closed"):
        services.win_opportunity(opportunity, by=alice, today=date(2026, 7, 2))
    assert RevenueEntry.objects.filter(kind="expansion").count() == 1


def test_a_win_without_a_running_contract_or_in_another_currency_is_refused(acme, alice) -> None:
    opportunity = services.create_opportunity(
        account=acme, kind="upsell", title="Analytics", amount=Decimal("100"), close_date=TODAY, by=alice
    )
    with pytest.raises(Exception, match="no active contract"):
        services.win_opportunity(opportunity, by=alice, today=TODAY)
    assert Opportunity.objects.get().stage == "open"


def test_the_csm_accepts_and_wins_through_the_pages(client, acme, acme_term, alice) -> None:
    full_licences(acme)
    services.raise_suggestions(today=TODAY)
    suggestion = Suggestion.objects.get()
    client.force_login(alice)

    page = client.get(reverse("growth:pipeline"))
    assert page.status_code == 200
    assert suggestion.reason in page.content.decode()

    response = client.post(
        reverse("growth:suggestion-accept", args=[suggestion.pk]),
        {"kind": "seats", "amount": "5000", "probability": "40", "close_date": "2099-01-31"},
    )
    opportunity = Opportunity.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("growth:opportunity-detail", args=[opportunity.pk])
    assert client.get(reverse("front:account-detail", args=[acme.pk])).content.decode().count(opportunity.title) >= 1

    page = client.get(reverse("growth:pipeline"))
    opened = next(s for s in page.context["report"]["stages"] if s["stage"] == "open")
    assert (opened["n"], opened["amount"], opened["weighted"]) == (1, Decimal("5000.00"), Decimal("2000.00"))
    months = [(m["month"], m["weighted"]) for m in page.context["report"]["months"]]
    assert months == [(date(2099, 1, 1), Decimal("2000.00"))]

    client.post(reverse("growth:opportunity-win", args=[opportunity.pk]), {"effective_on": "2026-09-01"})
    opportunity.refresh_from_db()
    assert opportunity.stage == "won"
    assert opportunity.revenue_entry.amount == Decimal("5000.00")


def test_bad_input_on_the_pages_is_a_message_not_a_500(client, acme, alice) -> None:
    full_licences(acme)
    services.raise_suggestions(today=TODAY)
    suggestion = Suggestion.objects.get()
    client.force_login(alice)
    response = client.post(
        reverse("growth:suggestion-accept", args=[suggestion.pk]), {"kind": "seats", "amount": "-3", "close_date": "x"}
    )
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == "new"
    assert not Opportunity.objects.exists()


def test_exactly_90_percent_is_not_more_than_90(acme, globex) -> None:
    full_licences(acme, active=9, purchased=10)
    full_licences(globex, active=91, purchased=100)
    services.raise_suggestions(today=TODAY)
    assert list(Suggestion.objects.values_list("account__name", flat=True)) == ["Globex"]


def test_an_earlier_term_of_the_account_does_not_count_the_running_terms_uses_twice(acme, acme_term, alice) -> None:
    from renewals import services as renewal_services

    renewal_services.create_contract(
        account=acme, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31), amount=Decimal("20000.00"), by=alice
    )
    acme.program.training_seats = 4
    acme.program.save()
    EntitlementUse.objects.create(account=acme, kind="training", quantity=Decimal("2"), used_on=date(2026, 3, 1))
    # 2 of 4 in the running term: nothing, however many terms the account had.
    assert services.raise_suggestions(today=TODAY)["entitlement_used_up"] == 0
    EntitlementUse.objects.create(account=acme, kind="training", quantity=Decimal("2"), used_on=date(2026, 4, 1))
    assert services.raise_suggestions(today=TODAY)["entitlement_used_up"] == 1
    assert Suggestion.objects.get().period == f"contract-{acme_term.pk}-training"
    assert services.raise_suggestions(today=TODAY)["entitlement_used_up"] == 0


def test_a_low_snapshot_before_the_first_high_one_in_the_window_raises_nothing(acme) -> None:
    full_licences(acme, days=21)  # high on the last three weekly snapshots
    UsageSnapshotFactory(account=acme, date=TODAY - timedelta(days=29), licenses_active=10, licenses_purchased=25)
    assert services.raise_suggestions(today=TODAY)["licences_full"] == 0


def test_a_snapshot_without_licences_is_left_out_of_the_window(acme) -> None:
    full_licences(acme)
    UsageSnapshotFactory(account=acme, date=TODAY - timedelta(days=3), licenses_active=0, licenses_purchased=0)
    assert services.raise_suggestions(today=TODAY)["licences_full"] == 1
