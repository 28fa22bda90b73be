"""Business reviews count against their entitlement for the contract year, from wherever the CSM
recorded them (a touchpoint, a health-check review, an entitlement use), once per day: on the
staff statement and on the customer page alike."""

import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Contact
from playbooks import services as playbook_services
from playbooks.models import EntitlementUse
from portal import services
from tests.factories import ContractFactory, HealthCheckFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(11)))


@pytest.fixture
def reviews(acme, program):
    program.business_reviews_per_year = 4
    program.save()
    ContractFactory(account=acme, starts_on=date(2024, 5, 1), ends_on=date(2027, 4, 30))  # year: 1 May 2025 on
    TouchpointFactory(account=acme, kind="business_review", occurred_at=at(date(2025, 7, 10)))
    HealthCheckFactory(account=acme, kind="business_review", held_on=date(2025, 10, 9), sentiment=4)
    # The same January review logged as a touchpoint and as a health check: one review.
    TouchpointFactory(account=acme, kind="business_review", occurred_at=at(date(2026, 1, 15)))
    HealthCheckFactory(account=acme, kind="business_review", held_on=date(2026, 1, 15), sentiment=4)
    # Entered as an entitlement use too, the same day as a touchpoint: still one.
    EntitlementUse.objects.create(account=acme, kind="business_review", quantity=1, used_on=date(2026, 2, 20))
    TouchpointFactory(account=acme, kind="business_review", occurred_at=at(date(2026, 2, 20)))
    # Not business reviews, or before the contract year: not counted.
    TouchpointFactory(account=acme, kind="call", occurred_at=at(date(2025, 8, 1)))
    HealthCheckFactory(account=acme, kind="health_check", held_on=date(2025, 9, 1), sentiment=3)
    TouchpointFactory(account=acme, kind="business_review", occurred_at=at(date(2025, 4, 30)))


def business_review_line(statement) -> tuple:
    line = next(line for line in statement.lines if line.kind == "business_review")
    return line.entitled, line.used, line.times, line.remaining


def test_each_recorded_review_counts_once_against_the_entitlement(acme, reviews) -> None:
    start, end, is_contract_year = playbook_services.contract_year(acme, today=TODAY)
    assert (start, end, is_contract_year) == (date(2025, 5, 1), date(2026, 4, 30), True)
    statement = playbook_services.service_usage_statement(acme, start=start, end=TODAY)
    assert business_review_line(statement) == (4, 4, 4, 0)
    assert [(r.used_on, r.source) for r in statement.reviews] == [
        (date(2025, 7, 10), "Touchpoint: business review"),
        (date(2025, 10, 9), "Health check: quarterly business review"),
        (date(2026, 1, 15), "Touchpoint: business review"),
    ]


def test_the_staff_statement_defaults_to_the_contract_year_and_lists_the_reviews(client, alice, acme, reviews) -> None:
    client.force_login(alice)
    with time_machine.travel(at(TODAY)):
        html = client.get(f"/playbooks/accounts/{acme.pk}/statement/").content.decode()
    assert re.search(r"Business review</td><td class=\"num\">4</td><td class=\"num\">4</td>", html)
    assert "Health check: quarterly business review" in html
    assert "30 Apr 2025" not in html  # the day before the contract year


def test_the_customer_page_counts_the_same_reviews(alice, acme, reviews) -> None:
    dana = Contact.objects.get(email="buyer@acme.test")
    link = services.create_link(contact=dana, by=alice, days=30, now=at(TODAY))
    with time_machine.travel(at(TODAY) + timedelta(hours=1)):
        html = Client().get(re.sub(r"^https?://[^/]+", "", services.url_for(link))).content.decode()
    assert re.search(
        r"Business review</td><td class=\"num\">4</td><td class=\"num\">4</td><td class=\"num\">4</td>", html
    )
