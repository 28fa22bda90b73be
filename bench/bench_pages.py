"""Page speed under load: Today and the account list with 100,000 accounts on PostgreSQL.

Builds a book with set-based SQL, serves the app with gunicorn (production settings) and
drives it with locust (headless) at 20 concurrent users, each signed in with a session
cookie. Beside the real pages, the same run measures naive versions (no select_related,
one query per row; a Python loop over the book for Today) served by the same gunicorn.
"""

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.test import Client, override_settings
from django.utils import timezone

from accounts import services
from accounts.models import Account, Contact, HealthScore, Touchpoint
from demo import accounts as demo
from front import pagination
from front import today as today_sections
from playbooks.models import OnboardingItem, Task
from renewals.models import Contract, Renewal, RevenueEntry

from .db import QueryCounter, bulk_load, ensure_database, vacuum_analyze
from .report import Headline, Result

DEFAULT_SCALE = 100_000
ROOT = Path(__file__).resolve().parent.parent
USERS = 20
RUN_SECONDS = int(os.environ.get("BENCH_PAGES_SECONDS", "25"))
TARGET_MS = 150
ALICE_BOOK = 5_000  # the most accounts the CSM owns, at any scale
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")
TARGETED = (
    "Today, CSM (own book)",
    "Account list, CSM",
    "Today, manager team view (whole book)",
    "Account list, manager (whole book)",
)


# --- Data ----------------------------------------------------------------------------------


def _literal_defaults(model: type[models.Model], given: set[str]) -> tuple[list[str], list[object]]:
    """Columns the SQL does not set, filled with each field's Python default.

    Other issues add columns with defaults; this keeps the bulk inserts working as they land.
    """
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given:
            continue
        if field.null and not field.has_default():
            continue
        if field.has_db_default() and not field.has_default():
            continue  # the column's DEFAULT fills it (db_default)
        default = field.get_default()
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            default = timezone.now()
        if isinstance(field, models.JSONField):
            default = json.dumps(default)
        columns.append(field.column)
        values.append(default)
    return columns, values


def insert_select(model: type[models.Model], columns: dict[str, str], from_sql: str, params: list | None = None) -> int:
    extra_columns, extra_values = _literal_defaults(model, set(columns))
    names = [*extra_columns, *columns]
    select = [*(["%s"] * len(extra_values)), *columns.values()]
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(select)} {from_sql}"
    # The SQL uses % as the modulo operator: escape it for the driver's %s placeholders.
    sql = re.sub(r"%(?!s)", "%%", sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*extra_values, *(params or [])])
        return cursor.rowcount


def build(scale: int, today: date) -> dict[str, User]:
    users = demo.seed_people()
    programs = demo.seed_programs()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_healthscore, accounts_account, accounts_contact, accounts_touchpoint, "
            "renewals_contract, renewals_renewal, renewals_revenueentry, playbooks_task, playbooks_onboardingitem "
            "RESTART IDENTITY CASCADE"
        )
    # Alice owns every 20th account up to a book of 5,000 (every 200th at 1M: a CSM's book does
    # not grow with the company's), the other three CSMs share the rest; carol manages all four,
    # so her team view is the whole book.
    alice_every = max(20, scale // ALICE_BOOK)
    loaded = (Account, Contact, Contract, Renewal, RevenueEntry, Touchpoint, Task, OnboardingItem, HealthScore)
    with bulk_load(*loaded):
        _build_rows(scale, today, users, programs, alice_every)
    vacuum_analyze()
    return users


def _build_rows(scale: int, today: date, users: dict[str, User], programs: dict, alice_every: int) -> None:
    owners = [users[name].pk for name in ("bob", "dave", "erin")]
    prefixes = "(ARRAY[" + ",".join(f"'{p}'" for p in demo.PREFIXES) + "])"
    suffixes = "(ARRAY[" + ",".join(f"'{s}'" for s in demo.SUFFIXES) + "])"
    insert_select(
        Account,
        {
            "name": f"{prefixes}[1 + i % {len(demo.PREFIXES)}] || ' ' || {suffixes}[1 + i % {len(demo.SUFFIXES)}]"
            " || ' ' || i",
            "external_id": "'BENCH-' || i",
            # Segment from i / 7, so that alice's every-20th accounts are of every segment too.
            "segment": "CASE WHEN (i / 7) % 10 < 6 THEN 'smb' WHEN (i / 7) % 10 < 9 THEN 'mid_market' "
            "ELSE 'enterprise' END",
            "owner_id": f"CASE WHEN i % {alice_every} = 0 THEN {users['alice'].pk} ELSE (ARRAY{owners})[1 + i % 3] END",
            "program_id": f"CASE WHEN (i / 7) % 10 < 6 THEN {programs['Essentials'].pk} WHEN (i / 7) % 10 < 9 "
            f"THEN {programs['Professional'].pk} ELSE {programs['Enterprise'].pk} END",
            "lifecycle_stage": "(ARRAY['onboarding','adoption','adoption','mature','mature','mature','renewal'])"
            "[1 + i % 7]",
        },
        "FROM generate_series(1, %s) AS i",
        [scale],
    )
    account_ids = "SELECT id, id AS i FROM accounts_account"
    insert_select(
        Contact,
        {
            "account_id": "a.id",
            "name": "'Contact ' || k || ' of ' || a.id",
            "email": "'c' || k || '.' || a.id || '@customer.example'",
            "is_decision_maker": "k = 1",
            "is_renewal": "k = 2",
            "is_billing": "k = 3",
            "is_primary": "k = 1",
            "left_on": "CASE WHEN (a.id * k) % 15 = 0 THEN %s::date - 30 END",
        },
        f"FROM ({account_ids}) a CROSS JOIN generate_series(1, 3) AS k",
        [today],
    )
    insert_select(
        Contract,
        {
            "account_id": "a.id",
            "program_id": "acc.program_id",
            "ends_on": "%s::date + ((a.id * 7919) % 560 - 20)::int",
            "starts_on": "%s::date + ((a.id * 7919) % 560 - 20)::int - 365",
            "recurring_amount": "3000 + (a.id * 37) % 90000",
            "status": "CASE WHEN (a.id * 7919) % 560 - 20 >= 0 THEN 'active' ELSE 'expired' END",
        },
        f"FROM ({account_ids}) a JOIN accounts_account acc ON acc.id = a.id",
        [today, today],
    )
    insert_select(
        Renewal,
        {
            "contract_id": "c.id",
            "stage": "(ARRAY['upcoming','notified','in_discussion','committed'])[1 + c.id % 4]",
            "owner_id": "acc.owner_id",
        },
        "FROM renewals_contract c JOIN accounts_account acc ON acc.id = c.account_id WHERE c.status = 'active'",
    )
    insert_select(
        RevenueEntry,
        {
            "account_id": "c.account_id",
            "contract_id": "c.id",
            "kind": "'new'",
            "amount": "c.recurring_amount",
            "effective_on": "c.starts_on",
        },
        "FROM renewals_contract c",
    )
    now = timezone.now()
    insert_select(
        Touchpoint,
        {
            "account_id": "a.id",
            "kind": "(ARRAY['call','meeting','email','business_review'])[1 + (a.id + k) % 4]",
            "outcome": "(ARRAY['positive','neutral','negative'])[1 + (a.id * k) % 3]",
            "notes": "''",
            "occurred_at": "%s::timestamptz - ((a.id * 31 + k * 47) % 150) * interval '1 day'",
            "by_id": "acc.owner_id",
        },
        f"FROM ({account_ids}) a JOIN accounts_account acc ON acc.id = a.id CROSS JOIN generate_series(1, 3) AS k",
        [now],
    )
    insert_select(
        Task,
        {
            "account_id": "acc.id",
            "assignee_id": "acc.owner_id",
            "title": "'Follow up with ' || acc.name",
            "description": "''",
            "reason": "'Bench task'",
            "key": "''",
            "due_on": "%s::date - ((acc.id / 10) % 5)::int + 1",
            "status": "'open'",
        },
        "FROM accounts_account acc WHERE acc.id % 10 = 0",
        [today],
    )
    insert_select(
        OnboardingItem,
        {
            "account_id": "acc.id",
            "title": "'Step ' || k",
            "position": "k",
            "due_on": "%s::date - 10 + k * 7",
            "completed_on": "CASE WHEN k = 1 THEN %s::date - 12 END",
        },
        "FROM accounts_account acc CROSS JOIN generate_series(1, 3) AS k WHERE acc.lifecycle_stage = 'onboarding'",
        [today, today],
    )
    for offset in (1, 0):
        insert_select(
            HealthScore,
            {
                "account_id": "acc.id",
                "day": "%s::date",
                "score": "(acc.id * 37 + %s * 11) % 100",
                "band": "CASE WHEN (acc.id * 37 + %s * 11) % 100 >= 70 THEN 'green' "
                "WHEN (acc.id * 37 + %s * 11) % 100 >= 40 THEN 'yellow' ELSE 'red' END",
                "previous_score": "(acc.id * 37 + %s * 11) % 100",
                "score_drop": "(acc.id * 37 + %s * 11) % 100 - (acc.id * 37 + %s * 11) % 100",
                "flagged": "%s AND acc.id % 25 = 0",
            },
            "FROM accounts_account acc",
            [
                today - timedelta(days=offset),
                offset,
                offset,
                offset,
                offset + 1,
                offset + 1,
                offset,
                offset == 0,
            ],
        )


def ensure_data(scale: int, today: date) -> dict[str, User]:
    marker = Account.objects.filter(external_id=f"BENCH-{scale}").exists()
    fresh = (
        marker
        and Account.objects.count() == scale
        and Task.objects.filter(due_on__gte=today).exists()
        and HealthScore.objects.filter(day=today).exists()
        and Account.objects.filter(external_id="BENCH-7", segment="smb").exists()  # this data shape
        and Account.objects.filter(
            external_id=f"BENCH-{max(20, scale // ALICE_BOOK)}", owner__username="alice"
        ).exists()
        and Account.objects.filter(last_touch_at__isnull=False).exists()
    )
    if fresh:
        return {u.username: u for u in User.objects.filter(username__in=["alice", "carol"])}
    started = time.monotonic()
    users = build(scale, today)
    # The touchpoints went in by SQL, past the receivers that keep last_touch_at.
    services.refresh_last_touch()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_account")
    print(f"built {scale:,} accounts in {time.monotonic() - started:.0f} s", flush=True)
    return users


# --- Serving and load ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "bench.pages_settings",
        "DJANGO_DEBUG": "0",
        # The sessions the bench signs in are signed with this process's key.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        # As in production (docker-compose.yml): the workers share one cache in Redis.
        "CACHE_URL": CACHE_URL,
    }


# Long enough for the naive Today loop over a big book to answer (the real pages take milliseconds).
WORKER_TIMEOUT = 300


def start_gunicorn(port: int, workers: int, *, page_cache: bool = True) -> subprocess.Popen:
    redis.Redis.from_url(CACHE_URL).flushdb()  # nothing cached by an earlier run or server
    env = server_env()
    if not page_cache:
        env["PAGE_CACHE_SECONDS"] = "0"
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "csm.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--timeout", str(WORKER_TIMEOUT), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def session_cookies(user: User, count: int = USERS) -> list[str]:
    """``count`` separate sign-ins of the user, each as the Cookie header a browser sends: its
    session and its CSRF secret (the production settings mark that cookie Secure, so over the
    bench's plain HTTP a client would not send it back on its own)."""
    cookies = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        request = HttpRequest()
        get_token(request)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}; csrftoken={request.META['CSRF_COOKIE']}")
    return cookies


def locust(*, port: int, path: str, cookies: list[str], think: bool, seconds: int = RUN_SECONDS) -> dict:
    """Run locust headless against one page; return request count, failures, p50, p95, rps."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "run"
        env = {
            **os.environ,
            "BENCH_PATH": path,
            "BENCH_COOKIES": ",".join(cookies),
            "BENCH_THINK": "1" if think else "0",
        }
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locust_pages.py"), "--headless",
             "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, check=False, capture_output=True,
        )  # fmt: skip
        with open(f"{prefix}_stats.csv", newline="") as handle:
            row = next((r for r in csv.DictReader(handle) if r["Name"] == "page"), None)
    if row is None:  # not one request finished in the time
        return {"requests": 0, "failures": 0, "p50": float("nan"), "p95": float("nan"), "rps": 0.0}
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "rps": float(row["Requests/s"]),
    }


def statements(user: User, path: str) -> int:
    client = Client()
    client.force_login(user)
    counter = QueryCounter()
    with override_settings(ROOT_URLCONF="bench.naive_pages"), counter.counting():
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return counter.count


def sequential_ms(port: int, path: str, cookie: str, times: int) -> float:
    """Median wall time of a few requests one after another (for baselines too slow to load)."""
    took = []
    for _ in range(times):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
            response.read()
            if response.status != 200 or "/login/" in response.url:
                raise RuntimeError(f"{path} answered {response.status} at {response.url}: not signed in?")
        took.append((time.perf_counter() - started) * 1000)
    return sorted(took)[len(took) // 2]


def computed_every_request(pages: list, sessions: dict[int, list[str]]) -> tuple[dict, dict]:
    """The pages with a target again, with the page cache off: what a request costs when the
    book under it has just changed (the first read after a write or a nightly job)."""
    port = free_port()
    server = start_gunicorn(port, workers=3, page_cache=False)
    results, alone = {}, {}
    try:
        for label, path, user, _ in pages:
            if label not in TARGETED:
                continue
            sequential_ms(port, path, sessions[user.pk][0], 6)
            alone[label] = sequential_ms(port, path, sessions[user.pk][0], 9)
            results[label] = locust(port=port, path=path, cookies=sessions[user.pk], think=True)
            print(label, "cache off", results[label], flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return results, alone


def charts_uncached_ms(user: User, *, team: bool, times: int = 5) -> float:
    """Median time to compute the Today charts of a scope with nothing cached."""
    scope = today_sections.Scope(user=user, team=team)
    took = []
    for _ in range(times):
        started = time.perf_counter()
        rates = today_sections.Rates.as_of(timezone.localdate())
        today_sections.pipeline_by_stage(scope, rates=rates)
        today_sections.revenue_movement(scope, today=timezone.localdate(), rates=rates)
        took.append((time.perf_counter() - started) * 1000)
    return sorted(took)[len(took) // 2]


def run(*, scale: int) -> Result:
    ensure_database()
    today = timezone.localdate()
    users = ensure_data(scale, today)
    alice, carol = users["alice"], users["carol"]
    alice_books = Account.objects.filter(owner=alice).count()
    sample = Account.objects.filter(owner=alice, lifecycle_stage="renewal").order_by("pk").first()
    pages = [
        ("Today, CSM (own book)", "/", alice, True),
        # The charts load after the page (htmx): users wait for them too, so they are measured.
        ("Today charts, CSM", "/today/charts/", alice, False),
        ("Account list, CSM", "/accounts/", alice, True),
        ("Today, manager team view (whole book)", "/?view=team", carol, False),
        ("Today charts, manager team view", "/today/charts/?view=team", carol, False),
        ("Account list, manager (whole book)", "/accounts/", carol, True),
        ("Account list, manager, search “harbor”", "/accounts/?q=harbor", carol, False),
        (
            "Account list, manager, renewal ≤ 90 days, sorted by renewal",
            "/accounts/?renewal=90&sort=renewal",
            carol,
            False,
        ),
        ("Account 360", f"/accounts/{sample.pk}/", alice, False),
        ("Naive account list, manager (baseline)", "/bench/naive-accounts/", carol, False),
    ]
    sessions = {alice.pk: session_cookies(alice), carol.pk: session_cookies(carol)}
    cookies = {pk: found[0] for pk, found in sessions.items()}
    counts = {label: statements(user, path) for label, path, user, _ in pages}
    port = free_port()
    server = start_gunicorn(port, workers=3)
    results, stress, alone = {}, {}, {}
    try:
        for label, path, user, stressed in pages:
            sequential_ms(port, path, cookies[user.pk], 6)  # warm every worker: imports, templates, plans
            alone[label] = sequential_ms(port, path, cookies[user.pk], 9)
            for cookie in sessions[user.pk]:  # each session's page computed once: the steady state
                sequential_ms(port, path, cookie, 1)
            results[label] = locust(port=port, path=path, cookies=sessions[user.pk], think=True)
            print(label, results[label], flush=True)
            if stressed:
                stress[label] = locust(port=port, path=path, cookies=sessions[user.pk], think=False, seconds=10)
                print(label, "no think time", stress[label], flush=True)
        try:
            naive_today_ms = sequential_ms(port, "/bench/naive-today/", cookies[alice.pk], 3)
        except OSError as exc:  # e.g. the worker timed out on the loop
            naive_today_ms, naive_today_error = float("nan"), str(exc)
        else:
            naive_today_error = ""
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    computed, computed_alone = computed_every_request(pages, sessions)
    # Against the naive loop, the real page computed (cache off), not served from the cache.
    real_today_ms = computed_alone["Today, CSM (own book)"]
    naive_today_statements = statements(alice, "/bench/naive-today/")
    chart_miss = {
        "CSM": charts_uncached_ms(alice, team=False),
        "manager team view": charts_uncached_ms(carol, team=True),
    }

    lines = [
        "## Pages under load: Today and the account list",
        "",
        f"{scale:,} accounts on PostgreSQL ({scale * 3:,} contacts, {scale * 3:,} touchpoints, one contract, "
        f"renewal and revenue entry each, open tasks on 10 %, health scores for two days when the health "
        f"model is present). The CSM (alice) owns {alice_books:,} accounts; the manager (carol) sees all "
        f"{scale:,}. Served by gunicorn (3 sync workers, production settings) and loaded with locust "
        f"(headless) at **{USERS} concurrent users** for {RUN_SECONDS} s per page, each user signed in with a "
        'session cookie. "Think time" is 0.5 to 1.5 s between a user\'s requests, as people click; '
        '"no think time" fires the next request as soon as the previous answer arrives (a stress test). '
        "Locust, the database and Redis (the workers' shared cache) share the machine's 2 cores with "
        "gunicorn. Load average when the "
        f"runs ended: {', '.join(f'{value:.1f}' for value in os.getloadavg())}.",
        "",
        f"Each of the {USERS} simulated users signs in with a session of its own. Today's sections and the "
        "account list are cached per session until the book under them changes (csm/freshness.py): a "
        "write request replaces the change stamps of the books its user may edit, every job and Celery "
        f"task those of every book, and a fragment lives at most {settings.PAGE_CACHE_SECONDS} s. Under "
        "this read-only load a session's page is computed once (each session requests it once before the "
        "timed run) and then served from the cache, shared by the workers in Redis; the statements "
        "column counts a computed page. The second table runs the same pages with the cache off: what "
        "every request would cost if each one followed a change to its book.",
        "",
        f"Target: p95 of Today and the account list under {TARGET_MS} ms.",
        "",
        "| page | statements | one at a time, median ms | requests | p50 ms | p95 ms | req/s | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, _, _, _ in pages:
        r = results[label]
        target = "met" if r["p95"] < TARGET_MS else "missed"
        if "Naive" in label or "360" in label or "search" in label or "sorted" in label:
            target = "—"
        lines.append(
            f"| {label} | {counts[label]} | {alone[label]:.0f} | {r['requests']:,} ({r['failures']} failed) | "
            f"{r['p50']:.0f} | {r['p95']:.0f} | {r['rps']:.1f} | {target} |"
        )
    lines += [
        "",
        "Page cache off (every request computed), with think time:",
        "",
        "| page | one at a time, median ms | requests | p50 ms | p95 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in computed.items():
        lines.append(
            f"| {label} | {computed_alone[label]:.0f} | {r['requests']:,} ({r['failures']} failed) | "
            f"{r['p50']:.0f} | {r['p95']:.0f} | {r['rps']:.1f} |"
        )
    lines += ["", "No think time (20 users firing back to back):", "",
              "| page | requests | p50 ms | p95 ms | req/s |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for label, r in stress.items():
        lines.append(f"| {label} | {r['requests']:,} | {r['p50']:.0f} | {r['p95']:.0f} | {r['rps']:.1f} |")
    lines += [
        "",
        "The Today charts are cached per scope for "
        f"{today_sections.CHARTS_TTL_SECONDS // 60} minutes, so under load nearly every request above is a "
        "cache hit. Computing them afresh (a miss: the first request of a scope, then one per "
        "period), median of 5 in the bench process: "
        + ", ".join(f"{scope} {ms:.0f} ms" for scope, ms in chart_miss.items())
        + f". Likewise the unfiltered account list of a book of {pagination.LARGE_BOOK:,}+ accounts keeps its "
        f"count for {pagination.COUNT_TTL_SECONDS} s; filtered lists count afresh.",
        "",
        "Naive baselines, measured in the same run and served by the same gunicorn:",
        "",
        f"- **Account list without select_related or the page's subqueries** (owner, program and contracts "
        f"fetched per row): {counts['Naive account list, manager (baseline)']} statements per page against "
        f"{counts['Account list, manager (whole book)']}; see its row above.",
        f"- **Today as a Python loop over the book** (each account's last touchpoint, tasks and onboarding "
        f"items fetched per account, then filtered in Python): {naive_today_statements:,} statements and "
        + (
            f"no answer ({naive_today_error}: longer than gunicorn's {WORKER_TIMEOUT} s worker timeout) "
            if naive_today_error
            else f"a median of {naive_today_ms:,.0f} ms "
        )
        + f"for alice's {alice_books:,} accounts, "
        "one request at a time, against "
        f"{real_today_ms:.0f} ms for the real page measured the same way, computed (page cache off). "
        "It is too slow to put under load.",
    ]
    return Result("\n".join(lines), headlines(scale, results, computed, real_today_ms, naive_today_ms))


def headlines(scale: int, results: dict, computed: dict, real_today_ms: float, naive_today_ms: float) -> list[Headline]:
    """p95 under load of the pages with a target (the manager's list beside the naive list), and
    Today one request at a time beside the naive loop."""
    naive_list = results["Naive account list, manager (baseline)"]["p95"]
    rows = [
        Headline(
            module="pages",
            measure=f"{label}: p95 under load",
            scale=scale,
            value=results[label]["p95"],
            unit="ms",
            naive=naive_list if "Account list, manager" in label else None,
            target=f"< {TARGET_MS} ms",
            met=results[label]["p95"] < TARGET_MS,
        )
        for label in TARGETED
    ]
    rows += [
        Headline(
            module="pages",
            measure=f"{label}: p95 under load, page cache off",
            scale=scale,
            value=computed[label]["p95"],
            unit="ms",
        )
        for label in TARGETED
    ]
    rows.append(
        Headline(
            module="pages",
            measure="Today, CSM (own book): one request at a time, computed, median",
            scale=scale,
            value=real_today_ms,
            unit="ms",
            naive=naive_today_ms,
        )
    )
    return rows
