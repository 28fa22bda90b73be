from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account, Contact, Touchpoint, UsageSnapshot
from renewals.models import Contract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_seed_demo_builds_a_realistic_book() -> None:
    call_command("seed_demo", accounts=60)
    today = timezone.localdate()
    assert Account.objects.count() == 60
    assert Account.objects.values("owner").distinct().count() >= 3
    assert Contact.objects.filter(left_on__isnull=False).exists(), "some contacts have left"
    assert Contact.objects.filter(is_decision_maker=True).count() >= 50
    assert Contract.objects.filter(ends_on__gt=today + timedelta(days=365)).exists()
    assert Contract.objects.filter(ends_on__lte=today + timedelta(days=60)).exists()
    assert UsageSnapshot.objects.values("date").distinct().count() >= 4
    assert Touchpoint.objects.exists()


def test_seed_demo_if_empty_leaves_existing_data_alone() -> None:
    call_command("seed_demo", accounts=5)
    call_command("seed_demo", accounts=5, if_empty=True)
    assert Account.objects.count() == 5
