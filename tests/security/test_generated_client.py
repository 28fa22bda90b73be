"""A client generated from the served schema by openapi-python-client imports and makes typed calls.

The generator (requirements-dev.txt) writes the client into tmp_path from ``/api/schema/`` of the
live test server; every operation module must import, and the calls an integration makes (list
accounts, create a contract, bulk usage, a handoff, snooze a task) answer the generated models.
"""

import importlib
import json
import os
import pkgutil
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, api_token

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def generate(live_server, token: str, into: Path) -> Path:
    url = f"{live_server.url}/api/schema/?format=json"  # http on loopback: the live test server
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  # the live test server
        schema = json.load(answer)
    document = into / "openapi.json"
    document.write_text(json.dumps(schema))
    assert GENERATOR.exists(), "openapi-python-client is missing: pip install -r requirements-dev.txt"
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [GENERATOR, "generate", "--path", document, "--meta", "none", "--output-path", into / "csm_client",
         "--fail-on-warning"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return into


@pytest.fixture
def client_package(live_server, book, tmp_path, monkeypatch):
    token = api_token(book.users["alice"])
    monkeypatch.syspath_prepend(str(generate(live_server, token, tmp_path)))
    yield token
    for name in [name for name in sys.modules if name == "csm_client" or name.startswith("csm_client.")]:
        del sys.modules[name]


def test_the_generated_client_imports_and_makes_the_integration_calls_typed(client_package, live_server, book) -> None:
    # One generation for both halves: it is the slow part.
    api = importlib.import_module("csm_client.api")
    names = [module.name for module in pkgutil.walk_packages(api.__path__, "csm_client.api.") if not module.ispkg]
    broken = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # every failure is reported, not only the first
            broken[name] = repr(exc)
    assert len(names) >= 35
    assert broken == {}

    from csm_client import AuthenticatedClient
    from csm_client.api.accounts import accounts_list
    from csm_client.api.contracts import contracts_create
    from csm_client.api.handoffs import handoffs_create
    from csm_client.api.tasks import tasks_snooze_create
    from csm_client.api.usage import usage_bulk_create
    from csm_client.models import (
        Contract,
        ContractCreateRequest,
        Handoff,
        HandoffInRequest,
        PaginatedAccountList,
        SnoozeRequest,
        Task,
        UsageBulkRequest,
        UsageBulkResult,
        UsageRowRequest,
    )

    today = timezone.localdate()
    fresh = AccountFactory(name="Initech", external_id="INITECH", owner=book.users["alice"])
    client = AuthenticatedClient(base_url=live_server.url, token=client_package, prefix="Token")

    accounts = accounts_list.sync(client=client, page_size=100)
    assert isinstance(accounts, PaginatedAccountList)
    assert {account.name for account in accounts.results} >= {book.account.name, "Initech"}

    contract = contracts_create.sync(
        client=client,
        body=ContractCreateRequest(
            account=fresh.pk, starts_on=today, ends_on=today + timedelta(days=364), recurring_amount="1200.00"
        ),
    )
    assert isinstance(contract, Contract)
    assert (contract.account, contract.recurring_amount, contract.ends_on) == (
        fresh.pk,
        "1200.00",
        today + timedelta(days=364),
    )

    usage = usage_bulk_create.sync(
        client=client,
        body=UsageBulkRequest(
            rows=[UsageRowRequest(account_external_id="INITECH", date=today, licenses_purchased=10, licenses_active=7)]
        ),
    )
    assert isinstance(usage, UsageBulkResult)
    assert (usage.received, usage.created, usage.updated) == (1, 1, 0)

    handoff = handoffs_create.sync(
        client=client, body=HandoffInRequest(deal_id="DEAL-77", account_name="Hooli", what_sold="Platform, 50 seats")
    )
    assert isinstance(handoff, Handoff)
    assert (handoff.deal_id, handoff.what_sold) == ("DEAL-77", "Platform, 50 seats")

    task = tasks_snooze_create.sync(book.task.pk, client=client, body=SnoozeRequest(until=today + timedelta(days=7)))
    assert isinstance(task, Task)
    assert task.snoozed_until == today + timedelta(days=7)
