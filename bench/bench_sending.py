"""Sending renewal notices end to end: the outbox, real Celery workers on Redis, a real SMTP server.

Builds the notices bench_notices builds (``scale`` notices planned from a book sized for it),
starts an aiosmtpd server on loopback in this process (it accepts every message and counts
messages and connections), then for each worker concurrency starts a real ``celery worker``
(prefork) on Redis and times one sweep's publish until every notice is sent and recorded.
Between runs the same notices are put back to ``pending``.

The baseline is the old path in the same run: one task per notice, each over its own SMTP
connection, every id published at once (the old sweeper published 2,000 every 2 minutes, a
cap of 16.7 notices/s before any worker speed). It runs on a sample and is reported as a rate.

Run it with ``REDIS_URL`` (a Redis database of its own: the bench purges its default queue); without
it the workers use the filesystem broker, which the section then names.
"""

import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import bench_notices
from bench.db import ensure_database, vacuum_analyze
from bench.report import Headline, Result

DEFAULT_SCALE = 12_000
TARGET = 150.0  # notices/s on this machine (issue 19)
CONCURRENCIES = tuple(int(c) for c in os.environ.get("BENCH_SENDING_CONCURRENCIES", "1,2,4").split(","))
BASELINE_SAMPLE = 2_000
# How often the bench counts finished notices: each count reads the table, on the workers' cores.
POLL_S = 0.2
BASELINE_CONCURRENCY = 2
# Seconds a run may take; on a machine this busy a run stops there and counts what finished.
BUDGET_S = float(os.environ.get("BENCH_SENDING_SECONDS", "120"))
ROOT = Path(__file__).resolve().parent.parent
# Notices planned per contract of the bench book: 90-day lead windows over ends spread across
# 396 days, about 2.9 renewal recipients each.
NOTICES_PER_CONTRACT = 0.62


class Counting:
    """An aiosmtpd handler that accepts everything and counts messages and connections."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:  # noqa: N802
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        with self.lock:
            self.messages += len(envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        with self.lock:
            self.messages = self.sessions = 0


@dataclass
class Run:
    label: str
    concurrency: int
    notices: int
    seconds: float
    sent: int
    other: int
    messages: int
    connections: int

    @property
    def rate(self) -> float:
        return self.notices / self.seconds if self.seconds else 0.0


def build(scale: int) -> int:
    """A book planned into about ``scale`` pending notices; returns how many."""
    from renewals import services
    from renewals.models import RenewalNotice

    bench_notices.build(max(int(scale / NOTICES_PER_CONTRACT), 100))
    services.plan_renewal_notices(today=bench_notices.TODAY, now=timezone.now(), publish=False)
    keep = list(RenewalNotice.objects.order_by("pk").values_list("pk", flat=True)[scale : scale + 1])
    if keep:
        RenewalNotice.objects.filter(pk__gte=keep[0]).delete()
    vacuum_analyze()
    return RenewalNotice.objects.count()


def reset_notices(limit: int | None = None) -> list[int]:
    """Every notice back to pending and unpublished (the first ``limit`` of them, the rest done)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE renewals_renewalnotice SET status = 'pending', enqueued_at = NULL, claimed_at = NULL, "
            "handed_over_at = NULL, sent_at = NULL, attempts = 0, last_error = '', message_id = '', "
            "next_attempt_at = NULL, failing_since = NULL"
        )
        cursor.execute("UPDATE renewals_renewal SET stage = 'upcoming' WHERE stage = 'notified'")
        cursor.execute("DELETE FROM csm_opsalert")
        cursor.execute("SELECT id FROM renewals_renewalnotice ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        if limit is not None:
            cursor.execute("UPDATE renewals_renewalnotice SET status = 'skipped' WHERE id > %s", [ids[limit - 1]])
            ids = ids[:limit]
    vacuum_analyze()
    return ids


def purge() -> None:
    from csm.celery import app

    app.control.purge()


def start_worker(concurrency: int, smtp_port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csm.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": settings.REDIS_URL,
        **({} if settings.REDIS_URL else {"CSM_BROKER_DIR": str(settings.CELERY_DIR)}),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "LOG_LEVEL": "WARNING",
        # Production mode, as a deployment runs its workers: no query log kept per statement.
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "csm", "worker", "--loglevel=WARNING", f"--concurrency={concurrency}",
        "--pool=prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"bench-sending-{concurrency}-{time.monotonic_ns()}@%h",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    from csm.celery import app

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return process
    raise RuntimeError(f"the worker did not answer a ping:\n{log.read_text()[-3000:]}")


def stop_worker(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def finished_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM renewals_renewalnotice WHERE status NOT IN ('pending', 'sending')")
        return cursor.fetchone()[0]


def measure(
    label: str, concurrency: int, handler: Counting, port: int, log: Path, *, limit: int | None, old: bool
) -> Run:
    from renewals import services, tasks
    from renewals.models import RenewalNotice

    ids = reset_notices(limit)
    total = RenewalNotice.objects.count()
    done_before = total - len(ids)
    purge()
    worker = start_worker(concurrency, port, log)
    try:
        handler.reset()
        started = time.perf_counter()
        if old:
            for notice_id in ids:
                tasks.send_renewal_notice.delay(notice_id)
        else:
            services.sweep_renewal_notices(now=timezone.now())
        # Until every notice is done, or the time budget is spent (a busy machine): then the rate
        # is what finished within it.
        deadline = started + BUDGET_S
        finished = 0
        while finished < len(ids) and time.perf_counter() < deadline:
            time.sleep(POLL_S)
            finished = finished_count() - done_before
        seconds = time.perf_counter() - started
        messages, connections = handler.messages, handler.sessions
    finally:
        stop_worker(worker)
    sent = RenewalNotice.objects.filter(pk__in=ids, status=RenewalNotice.Status.SENT).count()
    return Run(label, concurrency, finished, seconds, min(sent, finished), finished - min(sent, finished), messages,
               connections)  # fmt: skip


def run(*, scale: int) -> Result:
    from aiosmtpd.controller import Controller

    ensure_database()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    started = time.perf_counter()
    notices = build(scale)
    build_s = time.perf_counter() - started
    handler = Counting()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    log = Path(tempfile.mkdtemp(prefix="bench-sending-")) / "worker.log"
    runs: list[Run] = []
    try:
        sample = min(BASELINE_SAMPLE, notices)
        baseline = measure(
            "old path: a task and a connection per notice",
            BASELINE_CONCURRENCY,
            handler,
            port,
            log,
            limit=sample,
            old=True,
        )
        label = f"batches of {settings.NOTICE_SEND_BATCH}, queue fed by depth"
        runs += [measure(label, c, handler, port, log, limit=None, old=False) for c in CONCURRENCIES]
    finally:
        controller.stop()
        purge()

    best = max(runs, key=lambda r: r.rate)
    at_two = next((r for r in runs if r.concurrency == 2), best)
    rows = [
        f"| {r.label} | {r.concurrency} | {r.notices:,} | {r.seconds:.1f} s | **{r.rate:,.0f}/s** | {r.sent:,} "
        f"| {r.other:,} | {r.messages:,} | {r.connections:,} |"
        for r in [baseline, *runs]
    ]
    table = "\n".join(rows)
    verdict = "met" if best.rate >= TARGET else "NOT met"
    load = os.getloadavg()
    broker = "Redis" if settings.REDIS_URL else "the filesystem broker (no REDIS_URL set)"
    markdown = f"""## Sending renewal notices: {notices:,} notices to a loopback SMTP server

End to end on PostgreSQL and {broker}: one call of the sweeper (`renewals.services.sweep_renewal_notices`)
publishes, real `celery worker` processes (prefork, the concurrency below) claim, render, send and
record every notice, and the clock stops when none is left `pending` or `sending`, or after
{BUDGET_S:.0f} s, when the rate is what finished by then (the notices column). The SMTP server is
aiosmtpd on 127.0.0.1 in the bench process, accepting every message and counting messages and
connections (EHLOs). Each run starts from the same {notices:,} pending notices.

New path: `send_renewal_notices` tasks of NOTICE_SEND_BATCH = {settings.NOTICE_SEND_BATCH} ids, each
batch over one SMTP connection (`renewals.emails.Session`) and set-based around the sends: the batch
is claimed in one `UPDATE … RETURNING id`, the rows, their contacts' eligibility and the follow-ups'
earlier cycles are read in three statements, and each notice then costs its hand-over mark (committed
before its body goes to the server) and its record (committed after), plus, for the first sent notice of
a renewal, the move to notified with its audit row, in the same transaction. The broker queue is kept
at NOTICE_SEND_QUEUE_TARGET = {settings.NOTICE_SEND_QUEUE_TARGET} batch messages (the sweep fills it,
each finished batch tops it up once it has drained to half), so no task result is kept and no fixed
count per sweep applies. The workers run in production mode (`DJANGO_DEBUG=0`: no query log); the
bench counts finished notices every {POLL_S} s.
Baseline, the old path in the same run: one `send_renewal_notice` task per notice over its own
connection, every id published at once (faster than the old sweeper could: it published 2,000 every
2 minutes, a ceiling of 16.7 notices/s), on the first {sample:,} notices.

| path | worker concurrency | notices | time | notices/s | sent | skipped or failed | SMTP messages | SMTP connections |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{table}

Per notice, a batch used to send about 11 statements, each its own round trip and most their own
commit (the claim, the row's load, the contact's eligibility, the follow-up check, the hand-over, the
record, and for a renewal's first sent notice a locked read, the update, the audit row and three reads by
the webhook receiver: 555 for a batch of 50 in a profile at 3,000 notices); now it sends 2, plus 4 for a
renewal's first sent notice (295 for the same batch; `tests/renewals/test_send_batches.py` holds the 2).
What a worker spends besides is the SMTP conversation (MAIL, RCPT, DATA: three round trips to the server
in the bench process) and waiting on PostgreSQL's commits, so the rate rises with workers until the two
cores are busy, and falls with the machine's other load (the previous run of this section, before this
change and at a load average of 15: 4/s).

Target: at least {TARGET:.0f} notices/s on this machine: **{verdict}** (best {best.rate:,.0f}/s at
concurrency {best.concurrency}; {at_two.rate:,.0f}/s at 2 against {baseline.rate:,.0f}/s for the old
path at {BASELINE_CONCURRENCY}). The bench process (the SMTP server and the polling), PostgreSQL and
Redis share the machine's {os.cpu_count()} cores with the workers, and other work ran on the machine
during this run (the load average below). Building the book and planning took {build_s:.0f} s; load
average at the end {load[0]:.1f}.
"""

    def headline(measure: str, run: Run, target: str = "", met: bool | None = None) -> Headline:
        return Headline(
            module="sending", measure=measure, scale=notices, value=run.rate, unit="notices/s",
            naive=baseline.rate, target=target, met=met,
        )  # fmt: skip

    best_of = "concurrency " + ", ".join(map(str, CONCURRENCIES))
    headlines = [
        headline(f"notices sent per second (best of {best_of})", best, f"≥ {TARGET:.0f}/s", best.rate >= TARGET),
        *(headline(f"notices sent per second, worker concurrency {r.concurrency}", r) for r in runs),
    ]
    return Result(markdown, headlines)
