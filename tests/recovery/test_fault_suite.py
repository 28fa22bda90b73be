"""The fault suite: real PostgreSQL, a real worker and beat against this test's own
redis-server, a real SMTP server on loopback, and the faults of issue 20 done to them.

Each scenario prints ``expected / received / duplicates / lost`` (run with ``-s`` to see them)
and asserts every notice went out exactly once, with no restart by hand. Waits poll for an
observable event with a deadline.
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from csm.models import Heartbeat, JobRun, OpsAlert
from playbooks.models import Task
from renewals import services
from renewals.models import NoticeEvent, RenewalNotice
from tests.conftest import ROOT, Worker
from tests.factories import AccountFactory, ContactFactory, ContractFactory
from tests.renewals.conftest import SmtpSink, _free_port
from tests.security.test_broker_down import Redis

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
N_ACCOUNTS = 10  # two renewal contacts each: 20 notices per scenario


def wait_for(what: str, condition: Callable[[], bool], logs: Callable[[], str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    print(logs())
    raise AssertionError(f"timed out waiting for: {what}")


class Smtp:
    """The loopback SMTP server, which the test can take away and bring back on the same port."""

    def __init__(self) -> None:
        self.sink, self.port, self.controller = SmtpSink(), _free_port(), None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


class Beat:
    def __init__(self, env: dict[str, str], log) -> None:
        self.env, self.log, self.process = env, log, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csm", "beat", "--loglevel=INFO", "--pidfile="],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    server = Smtp()
    server.start()
    yield server
    server.sink.release.set()
    server.stop()


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis(_free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(worker_env, redis, smtp, tmp_path) -> Iterator[Callable]:
    """``stack(jobs)`` starts a worker and a beat (ticking ``jobs`` every 2 s) on this test's Redis."""
    started: list = []

    def start(jobs: str = "heartbeat,sweep") -> tuple[Worker, Beat]:
        env = {
            **worker_env,
            "DJANGO_SETTINGS_MODULE": "tests.recovery.fault_settings",
            "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            "CACHE_URL": "",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "0",
            "FAULT_BEAT_JOBS": jobs,
            "NOTICE_RETRY_BASE_SECONDS": "1",
            "NOTICE_RETRY_MAX_SECONDS": "1",
            "NOTICE_OUTAGE_ALERT_MINUTES": "0",
            "JOB_MAX_DURATION_SECONDS": "5",
        }
        worker, beat = Worker(env, tmp_path / "worker.log"), Beat(env, tmp_path / "beat.log")
        worker.start()
        beat.start()
        started.extend([worker, beat])
        return worker, beat

    yield start
    for process in started:
        process.stop()


def logs(tmp_path) -> Callable[[], str]:
    def read() -> str:
        return "\n".join(
            f"--- {name}\n" + (tmp_path / name).read_text(errors="replace")[-6000:]
            for name in ("worker.log", "beat.log")
            if (tmp_path / name).exists()
        )

    return read


def book(alice, program) -> set[str]:
    """Accounts whose contracts end in 45 days: inside the first notice's window today."""
    ends_on = timezone.localdate() + timedelta(days=45)
    expected = set()
    for n in range(N_ACCOUNTS):
        account = AccountFactory(name=f"Fault {n}", owner=alice, program=program)
        ContractFactory(account=account, ends_on=ends_on)
        for role in ("is_decision_maker", "is_billing"):
            email = f"{role.removeprefix('is_')}{n}@fault.test"
            ContactFactory(account=account, email=email, **{role: True})
            expected.add(email)
    return expected


def heartbeat_after(key: str, moment) -> Callable[[], bool]:
    return lambda: Heartbeat.objects.filter(key=key, at__gt=moment).exists()


def all_sent(expected: set[str]) -> Callable[[], bool]:
    return lambda: RenewalNotice.objects.filter(status=RenewalNotice.Status.SENT).count() == len(expected)


def report(scenario: str, expected: set[str], sink: SmtpSink) -> None:
    counts = Counter(sink.recipients)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(expected - set(counts))
    print(f"\n[fault] {scenario}: expected {len(expected)}, received {len(sink.recipients)}, "
          f"duplicates {duplicates}, lost {lost}")  # fmt: skip
    assert (duplicates, lost, set(counts)) == (0, 0, expected)


def noticed_broker_gone(output: str) -> bool:
    return "Connection to broker lost" in output or "Cannot connect" in output


def test_redis_killed_and_restarted_under_a_running_worker_and_beat(alice, program, stack, redis, smtp, tmp_path):
    worker, beat = stack()
    wait_for("the first heartbeat", heartbeat_after("worker", timezone.now()), logs(tmp_path))
    redis.stop()
    # Either line says the consumer saw the broker go: "Cannot connect" comes only when its first
    # reconnect is refused, which a loaded machine may reach by another path (kombu raising while it
    # tears the old channel down). Whether it then recovers is what the waits below check.
    wait_for("the worker to notice", lambda: noticed_broker_gone(worker.output()), logs(tmp_path))
    # Work planned while the broker is away waits as rows.
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    back = timezone.now()
    redis.start()
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=90)
    wait_for("beat ticking after the restart", heartbeat_after("beat", back), logs(tmp_path))
    assert worker.process.poll() is None  # nobody restarted it
    assert beat.process.poll() is None
    report("Redis killed and restarted", expected, smtp.sink)


def test_worker_killed_during_the_planner(alice, program, stack, smtp, tmp_path) -> None:
    expected = book(alice, program)
    # Hold inserts into the notice table: the planner blocks mid-transaction, as on a big book.
    dsn = connection.get_connection_params()
    lock = psycopg.connect(**{k: v for k, v in dsn.items() if k in ("dbname", "user", "password", "host", "port")})
    lock.execute("LOCK TABLE renewals_renewalnotice IN SHARE ROW EXCLUSIVE MODE")
    try:
        worker, _ = stack("heartbeat,sweep,plan")
        running = JobRun.objects.filter(job="renewals.plan_notices", status=JobRun.Status.RUNNING)
        wait_for("the planner to start", running.exists, logs(tmp_path))
        worker.kill()
    finally:
        lock.rollback()
        lock.close()
    assert not RenewalNotice.objects.exists()  # the killed planner's transaction rolled back
    worker.start()
    # The next tick after JOB_MAX_DURATION (5 s here) takes the day over.
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=90)
    run = JobRun.objects.get(job="renewals.plan_notices", day=timezone.localdate())
    assert run.status == JobRun.Status.DONE
    assert run.detail["notices_planned"] == len(expected)
    report("worker killed during the planner", expected, smtp.sink)


def test_smtp_away_past_the_old_retry_budget(alice, program, stack, smtp, tmp_path) -> None:
    smtp.stop()
    stack()
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    # The old budget: Celery's 5 retries and the sweeper's 2 more, then "failed" for good.
    past_budget = RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING, attempts__gte=8)
    wait_for("8 attempts on every notice", lambda: past_budget.count() == len(expected), logs(tmp_path), 120)
    assert not RenewalNotice.objects.filter(status=RenewalNotice.Status.FAILED).exists()
    smtp.start()
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=60)
    alerts = OpsAlert.objects.filter(key=services.OUTAGE)
    assert alerts.count() == 1  # one alert for an administrator
    assert not Task.objects.filter(key__startswith="renewal:notice-problem").exists()  # no task per recipient
    wait_for("the alert resolved", lambda: alerts.filter(resolved_at__isnull=False).exists(), logs(tmp_path))
    report("SMTP away past the old retry budget", expected, smtp.sink)


def test_relay_refuses_the_sender_then_accepts_it(alice, program, stack, smtp, tmp_path) -> None:
    smtp.sink.mail_reply = "550 5.7.1 Sender address rejected"
    stack()
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    paused = OpsAlert.objects.filter(key=services.PAUSED, resolved_at__isnull=True)
    wait_for("sending paused", paused.exists, logs(tmp_path))
    # A second worker process may be mid-conversation when the alert opens: it is refused the
    # same way and puts its notice back. Nothing fails, nothing is sent.
    not_pending = RenewalNotice.objects.exclude(status=RenewalNotice.Status.PENDING)
    wait_for("every notice back to pending", lambda: not not_pending.exists(), logs(tmp_path))
    assert smtp.sink.messages == []
    smtp.sink.mail_reply = None  # the relay is fixed
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=60)
    assert OpsAlert.objects.filter(key=services.PAUSED).count() == 1
    assert not paused.exists()
    assert not Task.objects.filter(key__startswith="renewal:notice-problem").exists()
    report("relay refused the sender, then accepted it", expected, smtp.sink)


def test_pages_while_the_cache_redis_is_down(settings, client, alice, alice_contract, redis) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "csm.cache.ForgivingRedisCache", "LOCATION": f"redis://127.0.0.1:{redis.port}/1"}
    }
    client.force_login(alice)
    assert client.get("/").status_code == 200  # cached in this Redis
    redis.stop()
    results = {}
    for path in ("/", "/accounts/", "/renewals/"):
        started = time.monotonic()
        results[path] = (client.get(path).status_code, time.monotonic() - started)
    print(f"\n[fault] pages with the cache's Redis down: {results}")
    assert {code for code, _ in results.values()} == {200}
    assert max(took for _, took in results.values()) < 3


def test_planning_with_the_broker_away_fails_fast_and_leaves_rows_unmarked(
    alice, program, worker_env, redis, tmp_path
) -> None:
    """The planner publishes after commit; with Redis stopped the publish gives up within
    seconds (result backend included) and no row is marked enqueued, so the next sweep sends it."""
    expected = book(alice, program)
    redis.stop()
    script = (
        "import time, django; django.setup()\n"
        "from django.utils import timezone\n"
        "from renewals import services\n"
        "started = time.monotonic()\n"
        "services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now())\n"
        "print(round(time.monotonic() - started, 2))\n"
    )
    env = {**worker_env, "DJANGO_SETTINGS_MODULE": "csm.settings", "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    took = float(run.stdout.strip().splitlines()[-1])
    print(f"\n[fault] planning with the broker away: {len(expected)} planned in {took} s, none marked enqueued")
    assert took < 8
    assert RenewalNotice.objects.count() == len(expected)
    assert not RenewalNotice.objects.filter(enqueued_at__isnull=False).exists()


def test_worker_killed_mid_batch(alice, program, stack, smtp, tmp_path) -> None:
    """SIGKILL while two SMTP conversations hang at RCPT: the cut sends go back to pending once
    stale and are sent once; the five the server accepted are not sent again."""
    smtp.sink.hold_after = 5
    worker, _ = stack()
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    assert smtp.sink.held.wait(60), logs(tmp_path)()
    sent = RenewalNotice.objects.filter(status=RenewalNotice.Status.SENT)
    wait_for("the five accepted notices recorded as sent", lambda: sent.count() == 5, logs(tmp_path))
    worker.kill()
    smtp.sink.hold_after = None
    smtp.sink.release.set()
    cut = RenewalNotice.objects.filter(status=RenewalNotice.Status.SENDING)
    assert cut.exists()
    assert not cut.filter(handed_over_at__isnull=False).exists()  # killed before the body went out
    # The sweeper acts on claims older than STUCK_AFTER (15 minutes): age them rather than wait.
    cut.update(claimed_at=timezone.now() - services.STUCK_AFTER - timedelta(minutes=1))
    # The killed batches' messages went with the worker (Redis gives an unacked message back only
    # after its visibility timeout): their notices not reached yet are pending and published; the
    # sweeper publishes them again once that publish is STUCK_AFTER old. Age those too.
    RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING, enqueued_at__isnull=False).update(
        enqueued_at=timezone.now() - services.STUCK_AFTER - timedelta(minutes=1)
    )
    worker.start()
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=90)
    # A heartbeat queued behind whatever was published twice: once it ran, those ran too.
    wait_for("a later worker heartbeat", heartbeat_after("worker", timezone.now()), logs(tmp_path))
    assert not RenewalNotice.objects.filter(status=RenewalNotice.Status.NEEDS_REVIEW).exists()
    report("worker killed mid-batch", expected, smtp.sink)


def test_smtp_connection_dropped_mid_batch(alice, program, stack, smtp, tmp_path) -> None:
    """The server hangs up in the middle of a batch's connection: the message on it waits and is
    sent once later, the rest of the batch goes over a new connection, nothing is sent twice."""
    smtp.sink.drop_after = 7
    stack()
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=90)
    assert smtp.sink.drop_after is None  # the drop happened
    assert RenewalNotice.objects.filter(attempts=2).count() == 1  # the cut message, tried again once
    assert not RenewalNotice.objects.filter(status=RenewalNotice.Status.NEEDS_REVIEW).exists()
    # Batches, not a connection per notice: far fewer sessions than notices.
    assert smtp.sink.sessions < len(expected) / 2
    print(f"\n[fault] connection dropped mid-batch: {smtp.sink.sessions} SMTP connections for {len(expected)} notices")
    report("SMTP connection dropped mid-batch", expected, smtp.sink)


def test_smtp_4xx_then_recovery(alice, program, stack, smtp, tmp_path) -> None:
    """The server answers 451 to every message for a while, then accepts: each notice waits and
    retries, none fails, none is sent twice, and no task is opened per recipient."""
    smtp.sink.data_reply = "451 4.3.0 Mailbox busy, try again later"
    stack()
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    retried = RenewalNotice.objects.filter(status=RenewalNotice.Status.PENDING, attempts__gte=2)
    wait_for("two refused attempts on every notice", lambda: retried.count() == len(expected), logs(tmp_path), 90)
    assert smtp.sink.messages == []
    smtp.sink.data_reply = None
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=60)
    assert not RenewalNotice.objects.filter(status=RenewalNotice.Status.FAILED).exists()
    assert not Task.objects.filter(key__startswith="renewal:notice-problem").exists()
    report("SMTP 451 then recovery", expected, smtp.sink)


WEBHOOK_SECRET = "hook:fault-s3cret"
MAILGUN_KEY = "key-fault-mailgun"


def mailgun_event(*, event: str, message_id: str, token: str, recipient: str, severity: str = "") -> bytes:
    timestamp = str(int(time.time()))
    signature = hmac.new(MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event, "id": f"id-{token}", "timestamp": float(timestamp), "recipient": recipient,
            "severity": severity, "message": {"headers": {"message-id": message_id}},
            "delivery-status": {"code": 550, "description": "No such mailbox", "message": "5.1.1 user unknown"},
        },
    }).encode()  # fmt: skip


def deliver_webhook(url: str, body: bytes) -> int:
    """One POST over a fresh HTTP connection, as a provider's webhook delivery is."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", parts.path, body=body, headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode(),
        })  # fmt: skip
        return connection.getresponse().status
    finally:
        connection.close()


def test_duplicate_webhook_deliveries(settings, live_server, alice, program, stack, smtp, tmp_path) -> None:
    """A provider that delivers each tracking webhook three times, concurrently: each event lands
    once; a hard bounce delivered three times marks the address bad once, opens one task and
    plans one notice for the fallback contact, which the worker then sends once."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    stack()
    expected = book(alice, program)
    services.plan_renewal_notices(today=timezone.localdate(), now=timezone.now(), publish=False)
    wait_for("every notice sent", all_sent(expected), logs(tmp_path), timeout=90)
    notices = list(RenewalNotice.objects.order_by("email"))
    assert all(notice.message_id for notice in notices)
    bounced = notices[0]
    fallback_email = "fallback@fault.test"
    ContactFactory(account=bounced.contract.account, email=fallback_email, **{
        role: getattr(bounced.contact, role) for role in ("is_decision_maker", "is_billing")
    })  # fmt: skip
    bodies = [
        mailgun_event(event="delivered", message_id=notice.message_id, token=f"d{notice.pk}", recipient=notice.email)
        for notice in notices
    ] + [
        mailgun_event(event="failed", severity="permanent", message_id=bounced.message_id, token=f"b{bounced.pk}",
                      recipient=bounced.email)
    ]  # fmt: skip
    url = f"{live_server.url}/anymail/mailgun/tracking/"
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda body: deliver_webhook(url, body), bodies * 3))
    assert Counter(statuses) == {200: len(bodies) * 3}
    events = NoticeEvent.objects.filter(provider="mailgun")
    assert events.count() == len(bodies)  # 21 events, each delivered three times
    assert set(Counter(events.values_list("event_id", flat=True)).values()) == {1}
    bounced.refresh_from_db()
    assert (bounced.status, bounced.delivery) == (RenewalNotice.Status.BOUNCED, "bounced")
    assert Task.objects.filter(key=f"renewal:bad-address:{bounced.contact_id}").count() == 1
    assert RenewalNotice.objects.filter(email=fallback_email).count() == 1
    fallback = RenewalNotice.objects.filter(email=fallback_email, status=RenewalNotice.Status.SENT)
    wait_for("the fallback notice sent", fallback.exists, logs(tmp_path))
    wait_for("a later worker heartbeat", heartbeat_after("worker", timezone.now()), logs(tmp_path))
    delivered = events.filter(event_type="delivered").count()
    print(f"\n[fault] duplicate webhook deliveries: {len(bodies) * 3} posts, {events.count()} events recorded "
          f"({delivered} delivered, 1 bounce), 1 fallback notice")  # fmt: skip
    report("duplicate webhook deliveries (with a bounce reaching the fallback)", expected | {fallback_email}, smtp.sink)
