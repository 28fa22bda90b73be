"""A bounced renewal notice (renewals.signals.notice_failed) opens a task once."""

from types import SimpleNamespace

import pytest

from playbooks.models import PlaybookRule, Task
from renewals.signals import notice_failed

pytestmark = pytest.mark.django_db


def test_a_bounced_notice_opens_one_task(alice_contract, make_rule) -> None:
    make_rule(PlaybookRule.Trigger.NOTICE_BOUNCED, task_title="Fix the notice recipients")
    notice = SimpleNamespace(pk=1, contract=alice_contract, contact="Rene Renewal <renewal@acme.test>")
    notice_failed.send(sender=None, notice=notice, error="550 mailbox unavailable")
    notice_failed.send(sender=None, notice=notice, error="550 mailbox unavailable")
    task = Task.objects.get()
    assert (task.account, task.title) == (alice_contract.account, "Fix the notice recipients")
    assert "550 mailbox unavailable" in task.reason
    assert "renewal@acme.test" in task.reason


def test_a_broken_receiver_never_breaks_the_sender(make_rule) -> None:
    make_rule(PlaybookRule.Trigger.NOTICE_BOUNCED)
    notice_failed.send(sender=None, notice=SimpleNamespace(pk=2), error="boom")
    assert not Task.objects.exists()
