"""The cast, shared by every test.

- ``alice``: a CSM who owns Acme (``acme``), with its contacts and contract.
- ``bob``: a CSM with another book (``globex``).
- ``carol``: the manager of the team alice and bob are in.
- ``rita``: read-only. ``admin``: a superuser.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.models import Account, Contact
from csm import roles
from renewals.models import Contract
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    ProgramFactory,
    TeamFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parent.parent


# --- The wall clock, moved ahead ------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=os.environ.get("CSM_TEST_CLOCK", ""),
        help="Run the whole session with the clock moved to this date (YYYY-MM-DD), to find tests that "
        "depend on the real day. Worker and browser subprocesses keep the real clock.",
    )


def pytest_configure(config: pytest.Config) -> None:
    if day := config.getoption("clock"):
        import time_machine

        config._clock_travel = time_machine.travel(f"{day}T09:00:00+00:00", tick=True)
        config._clock_travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if travel := getattr(config, "_clock_travel", None):
        travel.stop()


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: ids repeat across tests on SQLite, so a cached chart
    of one test's alice would otherwise show in the next test's."""
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """The cast's passwords are hashed in every test; PBKDF2's million iterations would cost each one a
    fraction of a second and prove nothing. Production keeps Django's strong default (tests/security checks it);
    a test whose subprocess checks passwords overrides this fixture to keep the defaults."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def development_mode(settings) -> None:
    """DJANGO_DEBUG=1, as ``make run`` has it: the demo seed refuses to run without it."""
    settings.DEBUG = True


@pytest.fixture
def alice():
    return UserFactory(username="alice", first_name="Alice", role=roles.CSM)


@pytest.fixture
def bob():
    return UserFactory(username="bob", first_name="Bob", role=roles.CSM)


@pytest.fixture
def carol(alice, bob):
    carol = UserFactory(username="carol", first_name="Carol", role=roles.MANAGER)
    team = TeamFactory(name="North", manager=carol)
    team.members.add(alice, bob)
    return carol


@pytest.fixture
def rita():
    return UserFactory(username="rita", first_name="Rita", role=roles.READ_ONLY)


@pytest.fixture
def admin_user():
    return UserFactory(username="admin", is_staff=True, is_superuser=True, role=roles.ADMIN)


@pytest.fixture
def program():
    return ProgramFactory(name="Professional", renewal_notice_lead_days=60)


@pytest.fixture
def acme(alice, program) -> Account:
    account = AccountFactory(name="Acme", external_id="ACME", owner=alice, program=program)
    ContactFactory(account=account, name="Dana Buyer", email="buyer@acme.test", is_decision_maker=True, is_primary=True)
    ContactFactory(account=account, name="Rene Renewal", email="renewal@acme.test", is_renewal=True)
    ContactFactory(account=account, name="Bill Payer", email="billing@acme.test", is_billing=True)
    ContactFactory(account=account, name="Chad Champion", email="champ@acme.test", is_champion=True)
    return account


@pytest.fixture
def alice_contract(acme) -> Contract:
    return ContractFactory(
        account=acme, starts_on=date(2025, 5, 1), ends_on=date(2026, 4, 30), recurring_amount=Decimal("24000.00")
    )


@pytest.fixture
def globex(bob, program) -> Account:
    account = AccountFactory(name="Globex", external_id="GLOBEX", owner=bob, program=program)
    ContactFactory(account=account, name="Gina Globex", email="gina@globex.test", is_decision_maker=True)
    return account


@pytest.fixture
def contacts_of():
    def _emails(account: Account) -> set[str]:
        return set(Contact.objects.filter(account=account).values_list("email", flat=True))

    return _emails


# --- A real Celery worker ----------------------------------------------------------------


def _database_url() -> str:
    """The URL of the test database as this process sees it, for a worker process to share."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgresql://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker_env(transactional_db) -> dict[str, str]:
    """The environment a worker process needs to share this test's database and broker."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    if "CSM_BROKER_DIR" not in env and not settings.REDIS_URL:
        env["CSM_BROKER_DIR"] = str(settings.CELERY_DIR)
    return env


TASK_RECEIVED = re.compile(r"Task \S+\[[0-9a-f-]+\] received")
TASK_DONE = re.compile(r"Task \S+\[[0-9a-f-]+\] (?:succeeded|raised|retry|ignored|rejected|failed)")


class Worker:
    """A ``celery worker`` process; ``kill()`` ends it the hard way, mid-task."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 2) -> None:
        self.env, self.log, self.concurrency = env, log, concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "csm", "worker", "--loglevel=INFO",
            f"--concurrency={self.concurrency}", "--pool=prefork", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--include=tests.celery_tasks", "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]  # fmt: skip
        self.handle = self.log.open("ab")
        self.log_start = self.log.stat().st_size  # this process's lines start here
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            # The test is over: a worker that lingers in warm shutdown only costs time.
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crashed host or OOM killer would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_idle(self, timeout: float = 90) -> None:
        """Return once this worker has finished every message published before the call.

        A marker task goes behind them in the queue; once its result is back every earlier message has been
        received, and the worker is idle when each received task has logged its outcome. A test asserts that
        nothing more happened after this, instead of after a guessed sleep.
        """
        from csm.celery import app

        app.send_task("celery.accumulate", args=(1,)).get(timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.log.open("rb") as log:
                log.seek(self.log_start)
                lines = log.read().decode(errors="replace")
            received = len(TASK_RECEIVED.findall(lines))
            if received and received == len(TASK_DONE.findall(lines)):
                return
            time.sleep(0.1)
        raise AssertionError(f"the worker did not become idle:\n{self.output()[-3000:]}")


@pytest.fixture
def celery_worker(worker_env, tmp_path) -> Iterator[Worker]:
    """Start a real worker against the configured broker (filesystem or Redis) and this test's database."""
    from csm.celery import app

    if not settings.REDIS_URL:
        shutil.rmtree(settings.CELERY_DIR / "broker" / "queue", ignore_errors=True)
        (settings.CELERY_DIR / "broker" / "queue").mkdir(parents=True, exist_ok=True)
    else:
        app.control.purge()
    worker = Worker(worker_env, tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()


# --- CI refuses skipped tests ------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CSM_FAIL_ON_SKIP=1 (CI), any skipped test fails the run: nothing passes by not running."""
    if os.environ.get("CSM_FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"CSM_FAIL_ON_SKIP: {len(skipped)} test(s) skipped; CI fails on skips.", red=True)
        session.exitstatus = 1
