"""Each trigger fires once for a matching account and not again while its run is open."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import HealthScore
from playbooks import services
from playbooks.models import PlaybookRule, PlaybookRun, Task
from renewals.models import Renewal
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    HealthScoreFactory,
    OnboardingItemFactory,
    RenewalFactory,
    TouchpointFactory,
    UsageSnapshotFactory,
)

Trigger = PlaybookRule.Trigger
pytestmark = pytest.mark.django_db


def _at(day) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _make_old(account, today) -> None:
    type(account).objects.filter(pk=account.pk).update(created_at=_at(today - timedelta(days=400)))


def _fires_once(rule, account, today) -> Task:
    first = services.evaluate_playbook_rules(today=today)
    second = services.evaluate_playbook_rules(today=today)
    later = services.evaluate_playbook_rules(today=today + timedelta(days=1))
    assert first["created"][rule.name] == 1
    assert second["created"][rule.name] == 0
    assert later["created"][rule.name] == 0
    runs = PlaybookRun.objects.filter(rule=rule)
    assert [(r.account_id, r.status) for r in runs] == [(account.pk, "open")]
    task = Task.objects.get(rule=rule)
    assert (task.account_id, task.assignee_id, task.status) == (account.pk, account.owner_id, "open")
    assert task.due_on == today + timedelta(days=rule.due_in_days)
    return task


def test_no_touchpoint_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.NO_TOUCHPOINT, 30)
    _make_old(acme, today)
    _make_old(globex, today)
    TouchpointFactory(account=acme, occurred_at=_at(today - timedelta(days=45)))
    TouchpointFactory(account=globex, occurred_at=_at(today - timedelta(days=5)))
    task = _fires_once(rule, acme, today)
    assert "No touchpoint for 30+ days" in task.reason
    assert str(today - timedelta(days=45)) in task.reason
    assert task.title == "Act on no_touchpoint (30)"


def test_onboarding_overdue_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.ONBOARDING_OVERDUE, 0)
    OnboardingItemFactory(account=acme, title="Access", due_on=today - timedelta(days=2))
    OnboardingItemFactory(
        account=globex, title="Access", due_on=today - timedelta(days=9), completed_on=today - timedelta(days=9)
    )
    OnboardingItemFactory(account=globex, title="Training", due_on=today + timedelta(days=10))
    task = _fires_once(rule, acme, today)
    assert task.reason.startswith("1 onboarding item(s) overdue")


def test_renewal_not_committed_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.RENEWAL_NOT_COMMITTED, 90)
    ContractFactory(account=acme, ends_on=today + timedelta(days=60))
    committed = ContractFactory(account=globex, ends_on=today + timedelta(days=60))
    RenewalFactory(contract=committed, stage=Renewal.Stage.COMMITTED)
    task = _fires_once(rule, acme, today)
    assert str(today + timedelta(days=60)) in task.reason


def test_contact_left_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.CONTACT_LEFT)
    acme.contacts.filter(is_primary=True).update(left_on=today - timedelta(days=3))
    ContactFactory(account=globex, is_renewal=True, left_on=today - timedelta(days=3), name="Had Successor")
    globex.contacts.filter(name="Had Successor").update(successor=globex.contacts.first())
    task = _fires_once(rule, acme, today)
    assert task.reason == "Dana Buyer left; find the successor"


def test_usage_drop_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.USAGE_DROPPED, 25)
    for account, before, now in ((acme, 20, 12), (globex, 20, 18)):
        UsageSnapshotFactory(account=account, date=today - timedelta(days=30), licenses_active=before)
        UsageSnapshotFactory(account=account, date=today - timedelta(days=1), licenses_active=now)
    task = _fires_once(rule, acme, today)
    assert task.reason == "Active licenses fell from 20 to 12 (weekly average)"


def test_a_disabled_rule_creates_nothing(acme, make_rule, today) -> None:
    make_rule(Trigger.ONBOARDING_OVERDUE, 0, enabled=False)
    OnboardingItemFactory(account=acme, title="Access", due_on=today - timedelta(days=2))
    assert services.evaluate_playbook_rules(today=today)["total"] == 0
    assert not Task.objects.exists()


def test_a_rule_for_another_program_skips_the_account(acme, make_rule, today) -> None:
    other = AccountFactory(name="Other").program
    make_rule(Trigger.ONBOARDING_OVERDUE, 0, program=other)
    OnboardingItemFactory(account=acme, title="Access", due_on=today - timedelta(days=2))
    assert services.evaluate_playbook_rules(today=today)["total"] == 0


def test_a_new_account_without_touchpoints_is_not_silent_yet(acme, make_rule, today) -> None:
    make_rule(Trigger.NO_TOUCHPOINT, 30)
    type(acme).objects.filter(pk=acme.pk).update(created_at=_at(today - timedelta(days=10)))
    assert services.evaluate_playbook_rules(today=today)["total"] == 0
    type(acme).objects.filter(pk=acme.pk).update(created_at=_at(today - timedelta(days=31)))
    assert services.evaluate_playbook_rules(today=today)["total"] == 1


def _score(account, day, *, score, band, previous_score, previous_band) -> HealthScore:
    return HealthScoreFactory(
        account=account,
        day=day,
        score=score,
        band=band,
        previous_score=previous_score,
        previous_band=previous_band,
        score_drop=previous_score - score,
        band_worsened=(previous_band, band) in {("green", "yellow"), ("green", "red"), ("yellow", "red")},
    )


def test_health_band_worsened_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.HEALTH_WORSENED)
    _score(acme, today, score=38, band="red", previous_score=55, previous_band="yellow")
    _score(globex, today, score=80, band="green", previous_score=60, previous_band="yellow")
    task = _fires_once(rule, acme, today)
    assert task.reason == f"Health yellow to red, score 55 to 38 on {today}"


def test_health_score_drop_fires_once(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.SCORE_DROP, 15)
    _score(acme, today, score=62, band="yellow", previous_score=80, previous_band="green")
    _score(globex, today, score=70, band="yellow", previous_score=80, previous_band="green")
    task = _fires_once(rule, acme, today)
    assert task.reason == f"Health green to yellow, score 80 to 62 on {today}"


def test_an_old_band_change_does_not_fire(acme, make_rule, today) -> None:
    make_rule(Trigger.HEALTH_WORSENED)
    _score(acme, today - timedelta(days=5), score=38, band="red", previous_score=55, previous_band="yellow")
    assert services.evaluate_playbook_rules(today=today)["total"] == 0
