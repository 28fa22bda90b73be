# ruff: noqa: RUF001, E501, S608  (a Markdown report, not SQL: it keeps its typography and table rows whole)
"""Usage ingestion: 100,000 daily snapshots in 1,000-row batches, through the service and the API,
into a book of ``scale`` accounts that already have usage history.

The load is the same at every scale (1,000 accounts spread evenly over the book x 100 days), so the
throughput figures compare across scales; what grows is the table and its indexes the rows land in.
Target ≥ 2,000 rows/s. The naive baseline is ``update_or_create`` per row (what a first
version of a usage sync usually does), measured on a sample and extrapolated.
"""

import json
import time
from datetime import date, timedelta

from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import ingest
from accounts.models import Account, UsageSnapshot
from bench.db import QueryCounter, bulk_load, ensure_database, vacuum_analyze
from bench.report import Headline, Result
from csm import roles

DEFAULT_SCALE = 100_000
BATCH = 1000
DAYS = 100
BASELINE_SAMPLE = 1_000
LOADED_ACCOUNTS = 1_000
HISTORY = 2  # usage snapshots per account already in the table
START = date(2026, 1, 1)
TARGET = 2_000
PREFIX = "BENCH-INGEST-"


def build_book(scale: int) -> float:
    """``scale`` accounts BENCH-INGEST-0000001…, each with usage history before ``START``; set-based."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account RESTART IDENTITY CASCADE")
    with bulk_load(Account, UsageSnapshot), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_account (name, external_id, segment, lifecycle_stage, created_at, updated_at)
            SELECT 'Bench ' || n, %s || lpad(n::text, 7, '0'), 'smb', 'adoption', now(), now()
            FROM generate_series(1, %s) AS n
            """,
            [PREFIX, scale],
        )
        cursor.execute(
            """
            INSERT INTO accounts_usagesnapshot (account_id, date, licenses_purchased, licenses_active, basic_users,
                                                advanced_users, availability_pct, open_support_cases, escalations)
            SELECT a.id, %s::date - 1 - h * 30, 50, 38, 33, 5, 99.9, 0, 0
            FROM accounts_account a CROSS JOIN generate_series(0, %s - 1) AS h
            """,
            [START, HISTORY],
        )
    vacuum_analyze()
    return time.perf_counter() - started


def loaded_numbers(scale: int) -> list[int]:
    """The accounts the load writes to: spread evenly over the book."""
    step = max(1, scale // LOADED_ACCOUNTS)
    return list(range(step, step * min(LOADED_ACCOUNTS, scale) + 1, step))


def wipe(numbers: list[int]) -> None:
    """Remove what a previous pass wrote (every row from ``START`` on), keeping the history."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM accounts_usagesnapshot WHERE date >= %s AND account_id IN "
            "(SELECT id FROM accounts_account WHERE external_id = ANY(%s))",
            [START, [f"{PREFIX}{n:07d}" for n in numbers]],
        )


def batches(numbers: list[int], days: int, *, active: int) -> list[list[dict]]:
    """JSON-shaped rows, as a client sends them: account-major, one row per account and day."""
    rows = [
        {
            "account_external_id": f"{PREFIX}{a:07d}",
            "date": (START + timedelta(days=d)).isoformat(),
            "licenses_purchased": 50,
            "licenses_active": active,
            "basic_users": active - 5,
            "advanced_users": 5,
            "availability_pct": "99.95",
            "open_support_cases": a % 3,
            "escalations": 0,
        }
        for a in numbers
        for d in range(days)
    ]
    return [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]


def admin_token() -> str:
    user, _ = User.objects.get_or_create(username="bench-ingest", defaults={"is_superuser": True})
    user.groups.add(Group.objects.get_or_create(name=roles.ADMIN)[0])
    from csm import tokens

    user.api_tokens.filter(name="bench").delete()
    return tokens.create_token(user=user, name="bench", expires_on=None, now=timezone.now())[1]


def run_service(all_batches: list[list[dict]]) -> tuple[float, int, int, int]:
    accounts = Account.objects.all()
    counter = QueryCounter()
    created = updated = 0
    started = time.perf_counter()
    with counter.counting():
        for batch in all_batches:
            result = ingest.upsert_usage(rows=batch, accounts=accounts)
            created += result.created
            updated += result.updated
    return time.perf_counter() - started, created, updated, counter.count


def run_api(all_batches: list[list[dict]], token: str) -> tuple[float, int, int]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    bodies = [json.dumps({"rows": batch}) for batch in all_batches]
    created = updated = 0
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/usage/bulk/", body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"bulk endpoint answered {response.status_code}: {response.content[:300]!r}")
        created += response.json()["created"]
        updated += response.json()["updated"]
    return time.perf_counter() - started, created, updated


def run_naive(rows: list[dict]) -> tuple[float, int]:
    wanted = {row["account_external_id"] for row in rows}
    ids = dict(Account.objects.filter(external_id__in=wanted).values_list("external_id", "pk"))
    counter = QueryCounter()
    started = time.perf_counter()
    with counter.counting():
        for row in rows:
            UsageSnapshot.objects.update_or_create(
                account_id=ids[row["account_external_id"]],
                date=date.fromisoformat(row["date"]),
                defaults={
                    key: row[key]
                    for key in ("licenses_purchased", "licenses_active", "basic_users", "advanced_users",
                                "availability_pct", "open_support_cases", "escalations")
                },
            )  # fmt: skip
    return time.perf_counter() - started, counter.count


def run(*, scale: int) -> Result:
    ensure_database()
    built_s = build_book(scale)
    numbers = loaded_numbers(scale)
    accounts = len(numbers)
    token = admin_token()
    first = batches(numbers, DAYS, active=40)
    total = sum(len(b) for b in first)

    service_s, created, updated, statements = run_service(first)
    replay_s, replay_created, replay_updated, _ = run_service(first)
    rows_after_replay = UsageSnapshot.objects.filter(date__gte=START).count()

    wipe(numbers)  # then the same volume through HTTP (auth, JSON parsing, throttling)
    api_s, api_created, _ = run_api(first, token)
    api_replay_s, api_replay_created, _ = run_api(batches(numbers, DAYS, active=41), token)

    wipe(numbers)
    sample = [row for batch in first for row in batch][:BASELINE_SAMPLE]
    naive_s, naive_statements = run_naive(sample)
    naive_rate = len(sample) / naive_s

    def rate(seconds: float) -> str:
        return f"{total / seconds:,.0f} rows/s"

    verdict = "met" if total / api_s >= TARGET and total / service_s >= TARGET else "NOT met"
    headlines = [
        Headline(
            module="ingest",
            measure="service upsert, first load",
            scale=scale,
            value=total / service_s,
            unit="rows/s",
            naive=naive_rate,
            target=f"≥ {TARGET:,} rows/s",
            met=total / service_s >= TARGET,
        ),
        Headline(
            module="ingest",
            measure="HTTP bulk endpoint, first load",
            scale=scale,
            value=total / api_s,
            unit="rows/s",
            target=f"≥ {TARGET:,} rows/s",
            met=total / api_s >= TARGET,
        ),
    ]
    markdown = f"""## Usage ingestion into a book of {scale:,} accounts

{total:,} daily usage snapshots ({accounts:,} accounts spread evenly over the book × {DAYS} days) upserted in
{len(first)} batches of {BATCH:,} rows, keyed by account external id + date, on PostgreSQL, into a table that
already holds {scale * HISTORY:,} snapshots ({HISTORY} per account; book built set-based in {built_s:.0f} s with
`bench.db.bulk_load`). The load is the same at every scale, so the rates compare across scales.
Target ≥ {TARGET:,} rows/s: **{verdict}**.

| path | rows | time | throughput | statements |
|---|---:|---:|---:|---:|
| service `ingest.upsert_usage`, first load | {total:,} | {service_s:.2f} s | **{rate(service_s)}** | {statements:,} ({statements / len(first):.0f} per batch) |
| service, same batches replayed | {total:,} | {replay_s:.2f} s | {rate(replay_s)} | – |
| HTTP `POST /api/usage/bulk/` (token auth, JSON, throttle), first load | {total:,} | {api_s:.2f} s | **{rate(api_s)}** | – |
| HTTP, batches replayed with changed values | {total:,} | {api_replay_s:.2f} s | {rate(api_replay_s)} | – |
| naive baseline: `update_or_create` per row, {len(sample):,}-row sample | {len(sample):,} | {naive_s:.2f} s | {naive_rate:,.0f} rows/s | {naive_statements:,} ({naive_statements / len(sample):.1f} per row) |

- Idempotency: the first load created {created:,} rows (updated {updated}); the replay created
  **{replay_created}** and updated {replay_updated:,}; {rows_after_replay:,} rows in the loaded days afterwards. Over HTTP the first load
  created {api_created:,}, the changed replay created **{api_replay_created}**.
- On PostgreSQL each batch is two statements: one account lookup (external id → id) and one
  `INSERT … SELECT FROM unnest(<column arrays>) ON CONFLICT (account_id, date) DO UPDATE … RETURNING (xmax = 0)`
  that also tells new rows from updated ones, in one transaction (BEGIN/COMMIT are not counted). SQLite takes
  the same upsert through `bulk_create(update_conflicts=True)` plus an existing-keys lookup.
- The naive baseline would take about {total / naive_rate:,.0f} s for all {total:,} rows (extrapolated from the
  sample), {(total / naive_rate) / service_s:.0f}× the service path.
"""
    return Result(markdown, headlines)
