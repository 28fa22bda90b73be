"""'Renewal not committed' flags a contract past its end whose renewal is still open."""

from datetime import timedelta

import pytest

from playbooks import services
from playbooks.models import PlaybookRule, Task
from renewals.models import Renewal
from tests.factories import ContractFactory
from tests.playbooks.conftest import TODAY, make_rule  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_an_overdue_contract_is_not_committed(acme, globex, make_rule) -> None:  # noqa: F811
    rule = make_rule(PlaybookRule.Trigger.RENEWAL_NOT_COMMITTED, 90)
    ContractFactory(account=acme, ends_on=TODAY - timedelta(days=10))
    lost = ContractFactory(account=globex, ends_on=TODAY - timedelta(days=10))
    Renewal.objects.create(contract=lost, stage=Renewal.Stage.LOST)
    assert services.evaluate_playbook_rules(today=TODAY)["created"][rule.name] == 1
    task = Task.objects.get(rule=rule)
    assert task.account == acme
    assert str(TODAY - timedelta(days=10)) in task.reason
