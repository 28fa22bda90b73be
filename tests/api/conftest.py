import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    ContractFactory,
    HealthScoreFactory,
    RenewalFactory,
    TouchpointFactory,
    UsageSnapshotFactory,
    api_token,
)


@pytest.fixture
def api():
    """``api(user)`` is a client that authenticates with the user's API token, as integrations do."""

    issued: dict[int, str] = {}

    def _client(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            if user.pk not in issued:
                issued[user.pk] = api_token(user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {issued[user.pk]}")
        return client

    return _client


@pytest.fixture
def books(acme, globex):
    """One row of every kind in alice's book (Acme) and in bob's (Globex)."""
    rows = {}
    for name, account in (("acme", acme), ("globex", globex)):
        contract = ContractFactory(account=account, ends_on=date(2026, 6, 30))
        rows[name] = {
            "accounts": account,
            "contacts": account.contacts.first(),
            "touchpoints": TouchpointFactory(account=account),
            "usage": UsageSnapshotFactory(account=account),
            "contracts": contract,
            "renewals": RenewalFactory(contract=contract),
            "health": HealthScoreFactory(account=account, day=date(2026, 3, 1), score=70, band="green"),
        }
    return rows


class Receiver:
    """A real HTTP server on 127.0.0.1 that records webhook POSTs and answers with ``statuses`` in turn."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
