"""Stages move by rule: onboarding → adoption → renewal → churned, and back with a new contract."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account, StageChange
from playbooks import services as playbooks
from playbooks.models import OnboardingItem
from renewals import lifecycle, services
from renewals.models import ReasonCode

pytestmark = pytest.mark.django_db

END = date(2026, 4, 30)


def stage(account) -> str:
    return Account.objects.get(pk=account.pk).lifecycle_stage


def contract(account, by, *, starts_on=date(2025, 5, 1), ends_on=END):
    return services.create_contract(account=account, starts_on=starts_on, ends_on=ends_on, amount=Decimal("100"), by=by)


def test_a_complete_checklist_moves_onboarding_to_adoption(acme) -> None:
    Account.objects.filter(pk=acme.pk).update(lifecycle_stage=Account.Stage.ONBOARDING)
    first, second = (OnboardingItem.objects.create(account=acme, title=t, due_on=END) for t in ("a", "b"))
    playbooks.set_onboarding_item_done(first, done=True, today=END)
    assert stage(acme) == Account.Stage.ONBOARDING
    playbooks.set_onboarding_item_done(second, done=True, today=END)
    assert stage(acme) == Account.Stage.ADOPTION
    assert StageChange.objects.get(account=acme).reason == "Onboarding checklist complete"


def test_the_notice_window_moves_to_renewal_and_a_renewal_back_to_adoption(acme, alice) -> None:
    Account.objects.filter(pk=acme.pk).update(lifecycle_stage=Account.Stage.ADOPTION)
    term = contract(acme, alice)
    lifecycle.run_contract_lifecycle(today=END - timedelta(days=61))
    assert stage(acme) == Account.Stage.ADOPTION
    lifecycle.run_contract_lifecycle(today=END - timedelta(days=60))
    assert stage(acme) == Account.Stage.RENEWAL
    services.renew_contract(term, ends_on=date(2027, 4, 30), amount=Decimal("100"), by=alice, today=END)
    assert stage(acme) == Account.Stage.ADOPTION


def test_the_last_contract_lost_churns_the_account_and_it_leaves_today(client, acme, alice) -> None:
    term = contract(acme, alice)
    services.mark_renewal_lost(
        term.renewal, reason=ReasonCode.objects.get(code="price"), notes="", by=alice, today=END - timedelta(days=9)
    )
    lifecycle.run_contract_lifecycle(today=END)
    assert stage(acme) != Account.Stage.CHURNED  # still in force on its last day
    lifecycle.run_contract_lifecycle(today=END + timedelta(days=1))
    assert stage(acme) == Account.Stage.CHURNED
    assert lifecycle.run_contract_lifecycle(today=END + timedelta(days=2))["churned"] == 0
    client.force_login(alice)
    today_page = client.get(reverse("front:today"))
    assert acme.pk not in [a.pk for a in today_page.context["silent"].rows]
    page = client.get(reverse("front:account-detail", args=[acme.pk])).content.decode()
    assert "Churned" in page  # the account keeps its page and timeline
    assert [e.title for e in today_page.context["tasks"].rows] == []

    contract(acme, alice, starts_on=END + timedelta(days=100), ends_on=END + timedelta(days=465))
    assert stage(acme) == Account.Stage.ONBOARDING
    assert list(StageChange.objects.filter(account=acme).order_by("pk").values_list("to_stage", flat=True)) == [
        "churned",
        "onboarding",
    ]


def test_a_lapse_churns_and_a_late_renewal_brings_it_back(acme, alice) -> None:
    term = contract(acme, alice)
    lifecycle.run_contract_lifecycle(today=END + timedelta(days=31))
    assert stage(acme) == Account.Stage.CHURNED
    services.renew_contract(term, ends_on=date(2027, 4, 30), amount=Decimal("100"), by=alice, today=END)
    assert stage(acme) == Account.Stage.ADOPTION
