"""A rule fires again for an account only after its task is closed and the re-trigger delay passed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from playbooks import services
from playbooks.models import PlaybookRule, PlaybookRun, Task
from tests.factories import OnboardingItemFactory

pytestmark = pytest.mark.django_db
Trigger = PlaybookRule.Trigger


@pytest.fixture
def overdue(acme, today):
    return OnboardingItemFactory(account=acme, title="Access", due_on=today - timedelta(days=5))


def test_done_closes_the_run_and_the_delay_holds_it_back(acme, alice, overdue, make_rule, today) -> None:
    rule = make_rule(Trigger.ONBOARDING_OVERDUE, retrigger_delay_days=10)
    services.evaluate_playbook_rules(today=today)
    task = Task.objects.get()
    services.complete_task(task, by=alice, now=datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert PlaybookRun.objects.get().status == "closed"
    assert services.evaluate_playbook_rules(today=today + timedelta(days=5))["created"][rule.name] == 0
    assert services.evaluate_playbook_rules(today=today + timedelta(days=12))["created"][rule.name] == 1
    assert Task.objects.filter(rule=rule, status="open").count() == 1
    assert PlaybookRun.objects.filter(rule=rule).count() == 2


def test_a_task_closed_outside_the_service_still_closes_its_run(overdue, make_rule, today) -> None:
    rule = make_rule(Trigger.ONBOARDING_OVERDUE, retrigger_delay_days=0)
    services.evaluate_playbook_rules(today=today)
    Task.objects.update(status=Task.Status.CANCELLED)
    assert services.evaluate_playbook_rules(today=today + timedelta(days=1))["created"][rule.name] == 1
    assert list(PlaybookRun.objects.order_by("pk").values_list("status", flat=True)) == ["closed", "open"]


def test_a_snoozed_task_keeps_the_run_open(alice, overdue, make_rule, today) -> None:
    rule = make_rule(Trigger.ONBOARDING_OVERDUE, retrigger_delay_days=0)
    services.evaluate_playbook_rules(today=today)
    services.snooze_task(Task.objects.get(), until=today + timedelta(days=7), today=today, by=alice)
    assert services.evaluate_playbook_rules(today=today + timedelta(days=1))["created"][rule.name] == 0
    services.evaluate_playbook_rules(today=today + timedelta(days=7))
    assert Task.objects.get().status == "open"


def test_the_database_refuses_a_second_open_run(acme, make_rule, today) -> None:
    rule = make_rule(Trigger.ONBOARDING_OVERDUE)
    PlaybookRun.objects.create(rule=rule, account=acme, fired_on=today)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlaybookRun.objects.create(rule=rule, account=acme, fired_on=today)
    PlaybookRun.objects.create(rule=rule, account=acme, fired_on=today, status="closed")


def test_a_manager_rule_assigns_the_csms_manager(acme, carol, overdue, make_rule, today) -> None:
    make_rule(Trigger.ONBOARDING_OVERDUE, assignee_role=PlaybookRule.Assignee.MANAGER)
    services.evaluate_playbook_rules(today=today)
    assert Task.objects.get().assignee == carol


def test_small_chunks_cover_every_account(acme, globex, make_rule, today) -> None:
    rule = make_rule(Trigger.ONBOARDING_OVERDUE)
    for account in (acme, globex):
        OnboardingItemFactory(account=account, title="Access", due_on=today - timedelta(days=5))
    assert services.evaluate_playbook_rules(today=today, chunk=1)["created"][rule.name] == 2
