"""Today's "Overdue health checks and reviews": the rules' definition, counted per kind, linked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import HealthCheck, Touchpoint
from front import today as sections
from tests.factories import AccountFactory, HealthCheckFactory, ProgramFactory, TouchpointFactory
from tests.ui.conftest import at

pytestmark = pytest.mark.django_db


def _old(account, today) -> None:
    type(account).objects.filter(pk=account.pk).update(created_at=at(today - timedelta(days=400)))


def test_overdue_checks_and_reviews_are_counted_and_linked(client, alice, bob) -> None:
    today = timezone.localdate()
    program = ProgramFactory(name="Premier", health_check_cadence_days=30, business_reviews_per_year=4)
    late_check = AccountFactory(name="Late check", owner=alice, program=program)
    late_both = AccountFactory(name="Late both", owner=alice, program=program)
    fine = AccountFactory(name="All fine", owner=alice, program=program)
    others = AccountFactory(name="Bob's late one", owner=bob, program=program)
    for account in (late_check, late_both, fine, others):
        _old(account, today)
    HealthCheckFactory(account=late_check, kind=HealthCheck.Kind.BUSINESS_REVIEW, held_on=today - timedelta(days=40))
    HealthCheckFactory(account=late_both, held_on=today - timedelta(days=100))
    HealthCheckFactory(account=fine, held_on=today - timedelta(days=5))
    TouchpointFactory(account=fine, kind=Touchpoint.Kind.BUSINESS_REVIEW, occurred_at=at(today - timedelta(days=5)))

    section = sections.overdue_reviews(sections.Scope(user=alice), today=today)
    assert section.counts == {"health_check": 2, "business_review": 1}
    # The longest overdue first: late_both's review fell due 91 days after it was created (400
    # days ago, never held), before its check did (100 - 30 = 70 days ago).
    assert [(row["account"].name, row["kind"], row["days_late"]) for row in section.rows] == [
        ("Late both", "business_review", 400 - 91),
        ("Late both", "health_check", 70),
        ("Late check", "health_check", 10),
    ]

    client.force_login(alice)
    page = client.get(reverse("front:today")).content.decode()
    assert "Overdue health checks and reviews" in page
    assert "Health checks overdue: <strong>2</strong> · business reviews overdue: <strong>1</strong>" in page
    assert reverse("health:check-new", args=[late_check.pk]) in page
    assert reverse("front:account-detail", args=[late_both.pk]) in page
    assert "All fine" not in page
    assert "late one" not in page
