"""The broker goes away: pages and sign-in still work, no request hangs, and work waits as rows.

A real web server process runs against this test's database. On PostgreSQL + Redis runs it
talks to a throwaway redis-server that the test stops; on the embedded configuration the
filesystem broker's folder is made unusable instead. Either way a renewal is moved by hand
(which queues a webhook) while the broker is down.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from csm import roles
from tests.factories import AccountFactory, ContractFactory, RenewalFactory, UserFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

ROOT = Path(settings.BASE_DIR)
BOUND = 5.0  # seconds: no request may hang on the missing broker
BROKER = "redis" if settings.REDIS_URL else "filesystem"


@pytest.fixture
def fast_password_hashing() -> None:
    """The server process checks passwords with the default hashers, so keep them here."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


class Redis:
    def __init__(self, port: int) -> None:
        self.port, self.process = port, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def queue_length(self) -> int:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "llen", "celery"], capture_output=True, text=True)
        return int(out.stdout.strip() or 0)


@pytest.fixture
def broker(worker_env, tmp_path) -> Iterator[dict]:
    """The environment of a web process whose broker this test can take away."""
    env = {**worker_env, "DJANGO_DEBUG": "1"}
    if BROKER == "redis":
        redis = Redis(free_port())
        redis.start()
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
        yield {"env": env, "redis": redis, "down": redis.stop}
        redis.stop()
    else:
        folder = tmp_path / "celery"
        env["CSM_BROKER_DIR"] = str(folder)

        def down() -> None:
            # A file where the queue folder was: every publish fails, as on a full or lost disk.
            shutil.rmtree(folder / "broker" / "queue")
            (folder / "broker" / "queue").write_text("not a folder")

        yield {"env": env, "folder": folder, "down": down}


@pytest.fixture
def server(broker, tmp_path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=broker["env"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def timed(call, *args, **kwargs) -> requests.Response:
    started = time.monotonic()
    response = call(*args, timeout=BOUND + 5, **kwargs)
    took = time.monotonic() - started
    assert took < BOUND, f"{args[0]} took {took:.1f} s with the broker down"
    return response


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("configured", [BROKER])
def test_with_the_broker_down_pages_and_sign_in_work_and_work_waits_as_rows(configured, broker, server) -> None:
    alice = UserFactory(username="alice", role=roles.CSM)
    account = AccountFactory(name="Acme", owner=alice)
    today = timezone.localdate()
    contract = ContractFactory(
        account=account, starts_on=today - timedelta(days=300), ends_on=today + timedelta(days=65),
        recurring_amount=Decimal("1000.00"),
    )  # fmt: skip
    renewal = RenewalFactory(contract=contract, owner=alice)
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s3cret")

    broker["down"]()

    web = requests.Session()
    login = timed(web.get, f"{server}/login/")
    assert login.status_code == 200
    signed_in = timed(
        web.post,
        f"{server}/login/",
        data={"username": "alice", "password": "s3cret-pass-word", "csrfmiddlewaretoken": csrf_token(login.text)},
        headers={"Referer": f"{server}/login/"},
    )
    assert signed_in.status_code == 200
    assert signed_in.url == f"{server}/"
    for path in ("/", "/accounts/", "/renewals/", f"/renewals/{renewal.pk}/"):
        page = timed(web.get, f"{server}{path}")
        assert page.status_code == 200, f"{path}: {page.status_code}"

    detail = timed(web.get, f"{server}/renewals/{renewal.pk}/")
    moved = timed(
        web.post,
        f"{server}/renewals/{renewal.pk}/stage/",
        data={"stage": "in_discussion", "csrfmiddlewaretoken": csrf_token(detail.text)},
        headers={"Referer": f"{server}/renewals/{renewal.pk}/"},
    )
    assert moved.status_code == 200
    renewal.refresh_from_db()
    assert renewal.stage == "in_discussion"
    # The webhook waits as an outbox row; nothing was lost with the broker.
    waiting = WebhookDelivery.objects.get(event="renewal.stage_changed")
    assert waiting.status == "pending"

    if configured == "redis":
        broker["redis"].start()
        swept = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from webhooks import tasks; print(tasks.sweep_webhooks())",
            ],
            cwd=ROOT,
            env={**broker["env"], "DJANGO_SETTINGS_MODULE": "csm.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert swept.returncode == 0, swept.stderr
        assert swept.stdout.strip().splitlines()[-1] == "1"
        assert broker["redis"].queue_length() == 1
    else:
        assert (broker["folder"] / "broker" / "queue").is_file()
