"""Pages: the health panel, the health-check form (permissions through the URL) and the calibration report."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import HealthCheck
from health import nightly
from tests.factories import AccountFactory, HealthScoreFactory, RevenueEntryFactory

from .conftest import DAY, at

pytestmark = pytest.mark.django_db


def test_the_account_page_shows_the_health_panel(client, alice, healthy_account, time_machine) -> None:
    # The page reads the clock and charts the last 26 weeks: it is opened on the day it was scored.
    time_machine.move_to(at(DAY, hour=12), tick=False)
    nightly.recalculate_health(day=DAY)
    client.force_login(alice)
    response = client.get(reverse("front:account-detail", args=[healthy_account.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="panel health-panel"' in html
    assert "20 of 25 licenses active" in html
    assert "no onboarding checklist" in html
    assert "<script>" not in html, "no inline scripts: the CSP forbids them"


def test_a_csm_records_a_health_check_on_their_account(client, alice, healthy_account) -> None:
    client.force_login(alice)
    url = reverse("health:check-new", args=[healthy_account.pk])
    response = client.post(url, {"kind": "business_review", "held_on": "2026-05-30", "sentiment": "2", "notes": " ok "})
    assert response.status_code == 302
    check = HealthCheck.objects.get(account=healthy_account, held_on=date(2026, 5, 30))
    assert (check.kind, check.sentiment, check.by, check.notes) == ("business_review", 2, alice, "ok")


def test_another_csms_account_is_not_found(client, bob, healthy_account) -> None:
    client.force_login(bob)
    url = reverse("health:check-new", args=[healthy_account.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"kind": "health_check", "held_on": "2026-05-30", "sentiment": "3"}).status_code == 404


def test_a_read_only_user_may_not_record_a_health_check(client, rita, healthy_account) -> None:
    client.force_login(rita)
    url = reverse("health:check-new", args=[healthy_account.pk])
    response = client.post(url, {"kind": "health_check", "held_on": "2026-05-30", "sentiment": "3"})
    assert response.status_code == 403
    assert HealthCheck.objects.filter(account=healthy_account).count() == 1


def test_a_check_in_the_future_is_refused(client, alice, healthy_account) -> None:
    client.force_login(alice)
    url = reverse("health:check-new", args=[healthy_account.pk])
    response = client.post(url, {"kind": "health_check", "held_on": "2999-01-01", "sentiment": "3"})
    assert response.status_code == 200
    assert "cannot be recorded ahead" in response.content.decode()
    assert HealthCheck.objects.filter(account=healthy_account).count() == 1


def test_the_calibration_page_says_what_to_do_without_history(client, carol) -> None:
    client.force_login(carol)
    response = client.get(reverse("health:calibration"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "No score history old enough yet" in html
    assert "with a reason code" in html
    assert "chart.umd.min.js" not in html, "nothing to draw"


def test_the_calibration_page_shows_counts_beside_rates_and_a_chart(client, carol, alice, program) -> None:
    today = timezone.localdate()
    for index in range(4):
        account = AccountFactory(owner=alice, program=program)
        HealthScoreFactory(account=account, day=today - timedelta(days=91), score=20, band="red", components={})
        if index == 0:
            RevenueEntryFactory(
                account=account, kind="churn", amount=Decimal("-100"), effective_on=today - timedelta(days=10)
            )
    client.force_login(carol)
    html = client.get(reverse("health:calibration")).content.decode()
    assert "1 of 4" in html
    assert "25.0%" in html
    assert "few accounts" in html
    assert 'data-chart="calibration" data-source="calibration-90"' in html
    assert 'id="calibration-90" type="application/json"' in html
    assert "<script>" not in html, "no inline scripts: the CSP forbids them"
    assert html.count('aria-current="page"') == 1
