"""A primary or renewal contact who leaves opens "find the successor" for the CSM, once."""

from datetime import timedelta

import pytest

from accounts.signals import contact_left
from playbooks.models import PlaybookRule, PlaybookRun, Task

pytestmark = pytest.mark.django_db


def _mark_left(contact, today) -> None:
    contact.left_on = today
    contact.save(update_fields=["left_on"])
    contact_left.send(sender=type(contact), contact=contact, today=today, by=None)


def test_a_primary_contact_leaving_opens_the_successor_task(acme, alice, make_rule, today) -> None:
    make_rule(PlaybookRule.Trigger.CONTACT_LEFT, task_title="Find the successor")
    _mark_left(acme.contacts.get(is_primary=True), today)
    task = Task.objects.get()
    assert (task.account, task.assignee, task.title, task.status) == (acme, alice, "Find the successor", "open")
    assert task.reason == "Dana Buyer left; find the successor"
    assert task.due_on == today + timedelta(days=3)


def test_a_second_contact_leaving_while_the_task_is_open_adds_nothing(acme, make_rule, today) -> None:
    make_rule(PlaybookRule.Trigger.CONTACT_LEFT)
    _mark_left(acme.contacts.get(is_primary=True), today)
    _mark_left(acme.contacts.get(is_renewal=True), today)
    assert Task.objects.count() == 1
    assert PlaybookRun.objects.count() == 1


def test_a_champion_leaving_is_not_this_trigger(acme, make_rule, today) -> None:
    make_rule(PlaybookRule.Trigger.CONTACT_LEFT)
    _mark_left(acme.contacts.get(is_champion=True), today)
    assert not Task.objects.exists()


def test_the_event_only_touches_its_own_account(acme, globex, make_rule, today) -> None:
    make_rule(PlaybookRule.Trigger.CONTACT_LEFT)
    globex.contacts.update(left_on=today - timedelta(days=1), is_primary=True)
    _mark_left(acme.contacts.get(is_primary=True), today)
    assert list(Task.objects.values_list("account__name", flat=True)) == ["Acme"]
