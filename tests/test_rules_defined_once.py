"""Each rule has one definition (docs/architecture.md, "One rule, one place"); these tests pin it
and show that the places that used to carry their own copy now agree with it."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact, HealthScore
from csm.csvcells import safe_cell
from front import account360
from health.scoring import ModelSpec
from imports import services as imports
from playbooks import services as playbook_services
from renewals.models import RenewalNotice
from renewals.views import _eligibility
from tests.factories import AccountFactory, ContactFactory

DAY = date(2026, 6, 1)


def test_the_csv_guard_quotes_formula_text_but_never_a_number() -> None:
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell(-25) == "-25"  # a churn entry in the ledger stays a number
    assert safe_cell(None) == ""


def test_score_to_band_follows_the_model_thresholds() -> None:
    assert [HealthScore.band_of(s, green_min=70, yellow_min=40) for s in (70, 69, 40, 39)] == [
        "green",
        "yellow",
        "yellow",
        "red",
    ]
    spec = ModelSpec(model_id=None, green_min=80, yellow_min=50, drop_alert=10, components={})
    assert [spec.band(s) for s in (80, 79, 49)] == ["green", "yellow", "red"]


def test_bands_rank_from_best_to_worst() -> None:
    ranked = sorted(HealthScore.Band.values, key=HealthScore.BAND_RANK.__getitem__)
    assert ranked == ["green", "yellow", "red"]


def test_the_statuses_needing_a_person_are_failed_bounced_and_unclear() -> None:
    assert set(RenewalNotice.NEEDS_A_PERSON) == {"failed", "bounced", "needs_review"}
    assert set(RenewalNotice.UNDELIVERED) == {"failed", "bounced"}


def test_contact_roles_are_one_list_for_the_handoff_the_import_and_the_successor() -> None:
    role_fields = {field for field, _, _ in Contact.ROLES}
    assert set(playbook_services.CONTACT_ROLES.values()) == role_fields | {"is_primary"}
    assert set(imports.CONTACT_FLAGS.values()) == role_fields | {"is_primary", "email_opt_out"}
    assert set(Contact.RENEWAL_ROLE_FIELDS) <= role_fields


@pytest.mark.django_db
def test_who_receives_renewal_notices_is_the_same_on_every_page() -> None:
    account = AccountFactory()
    people = [
        ContactFactory(account=account, is_billing=True),
        ContactFactory(account=account, is_renewal=True, email_opt_out=True),
        ContactFactory(account=account, is_decision_maker=True, email=""),
        ContactFactory(account=account, is_decision_maker=True, left_on=DAY - timedelta(days=1)),
        ContactFactory(account=account, is_champion=True),
        ContactFactory(account=account, is_decision_maker=True, left_on=DAY + timedelta(days=30)),
    ]
    expected = {people[0].pk, people[5].pk}
    assert set(Contact.objects.renewal_recipients(today=DAY).values_list("pk", flat=True)) == expected
    assert {c.pk for c, why in _eligibility(people, DAY) if not why} == expected
    assert [why for _, why in _eligibility(people, DAY)] == [
        "",
        "opted out",
        "no email",
        "left",
        "no renewal role",
        "",
    ]
    # The account page's coverage used to count a contact who had left.
    assert {c.pk for c in account360.renewal_coverage(people, today=DAY)["recipients"]} == expected


@pytest.mark.django_db
def test_the_latest_score_is_the_latest_run_at_most_a_week_old() -> None:
    account = AccountFactory()
    HealthScore.objects.create(account=account, day=DAY - timedelta(days=8), score=30, band="red", components={})
    assert not HealthScore.objects.latest_run(today=DAY).exists()
    HealthScore.objects.create(account=account, day=DAY - timedelta(days=2), score=80, band="green", components={})
    HealthScore.objects.create(account=account, day=DAY + timedelta(days=1), score=10, band="red", components={})
    assert list(HealthScore.objects.latest_run(today=DAY).values_list("band", flat=True)) == ["green"]


@pytest.mark.django_db
def test_the_account_list_and_the_account_page_agree_on_the_current_band(client, alice, acme, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 0  # the scores below are written around the page cache
    # Pages read the clock, so the scores are placed relative to it.
    today = timezone.localdate()
    HealthScore.objects.create(account=acme, day=today - timedelta(days=10), score=20, band="red", components={})
    client.force_login(alice)
    page = client.get(reverse("front:account-detail", args=[acme.pk])).content.decode()
    listing = client.get(reverse("front:account-list")).content.decode()
    assert "not scored yet" in page
    assert "band-red" not in listing
    HealthScore.objects.create(account=acme, day=today - timedelta(days=1), score=90, band="green", components={})
    page = client.get(reverse("front:account-detail", args=[acme.pk])).content.decode()
    listing = client.get(reverse("front:account-list")).content.decode()
    assert "not scored yet" not in page
    assert "band-green" in page
    assert "band-green" in listing
