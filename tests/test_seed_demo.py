from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account, Contact, Touchpoint, UsageSnapshot
from playbooks.models import Handoff
from renewals.models import Contract, RenewalNotice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("development_mode")]


def test_seed_demo_builds_a_realistic_book() -> None:
    call_command("seed_demo", accounts=60)
    today = timezone.localdate()
    # Plus the deals Sales handed off this month (demo/playbooks.py HANDOFFS).
    assert Account.objects.filter(handoffs__isnull=True).count() == 60
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
    assert Account.objects.filter(handoffs__isnull=True).count() == 5
    assert Account.objects.filter(handoffs__isnull=False).count() == 3


def test_the_demo_sends_its_notices_through_the_real_sender_and_has_handoffs(mailoutbox) -> None:
    call_command("seed_demo", accounts=60)
    sent = RenewalNotice.objects.filter(status__in=[RenewalNotice.Status.SENT, RenewalNotice.Status.BOUNCED])
    assert sent.exists()
    # Every notice shown as sent (or bounced after) is a message the mail backend received.
    assert sorted(m.extra_headers["Message-ID"] for m in mailoutbox) == sorted(
        f"<renewal-notice-{pk}@localhost>" for pk in sent.values_list("pk", flat=True)
    )
    handoffs = Handoff.objects.select_related("account")
    assert handoffs.count() == 3
    for handoff in handoffs:
        assert handoff.account.lifecycle_stage == Account.Stage.ONBOARDING
        assert handoff.contract is not None
        assert handoff.account.onboarding_items.exists()
