"""Health history over time: bytes per account-day and the nightly run against the length of history.

Builds the health bench's inputs (``bench.bench_health.build``) for ``scale`` accounts, scores one
real night (so every row carries the parts the nightly SQL really writes), then grows the history
to 1, 90 and 365 days (1 and 30 at 1M accounts) by copying that night's rows to earlier days, in
day order, in the layout the retention job leaves: full rows for ``HEALTH_PARTS_DAYS``, score,
band and flags only before that, and thinned months compacted (``health.partitions.compact``).
At each length it measures table + index + TOAST bytes per account-day, then times the next
night's ``recalculate_health`` (band changes announced) and the WAL it writes.

Beside it, in the same run, on a sample of accounts over the longest history: the previous
layout (the table as it was before monthly partitions: an ``id`` key, a unique (account, day)
index, a (day, account) index, parts kept 194 days and emptied after) and the naive baseline (the
same table, every row full, nothing ever thinned), both built by raw SQL.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import connection

from bench.db import AllConnectionsCounter, ensure_database, timed
from bench.report import Headline, Result

DEFAULT_SCALE = 100_000
SAMPLE = 10_000
TARGET_BYTES = 100
TARGET_SECONDS = 60
YEAR_DAYS = 365  # the history length the bytes target is set for
PREVIOUS_PARTS_DAYS = 194  # the previous layout kept parts this long (calibration's reads)
COLUMNS = (
    "account_id, day, score, previous_score, score_drop, band_worsened, flagged, check_overdue, band, "
    "previous_band, model_id, parts"
)
OLD_TABLE = """
CREATE TABLE {name} (
    id bigserial PRIMARY KEY, account_id bigint NOT NULL, day date NOT NULL, model_id bigint NULL,
    score smallint NOT NULL, band varchar(10) NOT NULL, previous_score smallint NULL,
    previous_band varchar(10) NOT NULL, score_drop smallint NULL, band_worsened boolean NOT NULL,
    flagged boolean NOT NULL, check_overdue boolean NOT NULL, parts double precision[] NOT NULL,
    CONSTRAINT {name}_one UNIQUE (account_id, day)
);
CREATE INDEX {name}_flagged ON {name} (day) WHERE flagged;
CREATE INDEX {name}_day_account ON {name} (day, account_id);
CREATE INDEX {name}_rank ON {name} (day, score_drop DESC NULLS LAST, score, id) INCLUDE (account_id) WHERE flagged;
"""


def _lengths(scale: int) -> tuple[int, ...]:
    return (1, 30) if scale >= 1_000_000 else (1, 90, 365)


def _wal() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")
        return int(cursor.fetchone()[0])


def _bytes(tables: list[str]) -> dict:
    """Heap, index and TOAST bytes of ``tables`` (the partitions), per row."""
    with connection.cursor() as cursor:
        heap = index = toast = rows = 0
        for table in tables:
            cursor.execute(
                "SELECT pg_relation_size(%s), pg_indexes_size(%s), "
                "pg_total_relation_size(%s) - pg_relation_size(%s) - pg_indexes_size(%s)",
                [table, table, table, table, table],
            )
            h, i, t = cursor.fetchone()
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            heap, index, toast, rows = heap + h, index + i, toast + t, rows + cursor.fetchone()[0]
    rows = max(rows, 1)
    return {"rows": rows, "heap": heap / rows, "index": index / rows, "toast": toast / rows,
            "total": (heap + index + toast) / rows}  # fmt: skip


def _copy_days(template: date, first: date, last: date, *, keep_from: date, table: str, where: str = "") -> None:
    """Copy the template night to every day from ``first`` to ``last``, day by day (oldest first),
    full before... thinned: rows before ``keep_from`` keep score, band and flags only."""
    day = first
    with connection.cursor() as cursor:
        # As bench.db.bulk_load: foreign-key triggers off for the copy (the ids come from real rows).
        cursor.execute("SET session_replication_role = replica")
        while day <= last:
            thin = day < keep_from
            cursor.execute(
                f"""INSERT INTO {table} ({COLUMNS})
                    SELECT account_id, %s::date, score, {"NULL" if thin else "previous_score"},
                           {"NULL" if thin else "score_drop"}, band_worsened, flagged, check_overdue, band,
                           {"''" if thin else "previous_band"}, {"NULL" if thin else "model_id"},
                           {"NULL" if thin else "parts"}
                    FROM accounts_healthscore WHERE day = %s {where} ORDER BY account_id""",  # noqa: S608
                [day, template],
            )
            day += timedelta(days=1)
        cursor.execute("SET session_replication_role = DEFAULT")


def _old_layout(name: str, template: date, days: int, *, parts_days: int | None) -> dict:
    """The previous table shape over ``days`` days for the first SAMPLE accounts; ``parts_days``
    None keeps every row full (naive)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(OLD_TABLE.format(name=name))
        cursor.execute("SELECT min(account_id) + %s FROM accounts_healthscore WHERE day = %s", [SAMPLE, template])
        (limit,) = cursor.fetchone()
        day = template - timedelta(days=days - 1)
        while day <= template:
            thin = parts_days is not None and day < template - timedelta(days=parts_days)
            cursor.execute(
                f"""INSERT INTO {name} (account_id, day, model_id, score, band, previous_score, previous_band,
                                        score_drop, band_worsened, flagged, check_overdue, parts)
                    SELECT account_id, %s::date, model_id, score, band, previous_score, previous_band, score_drop,
                           band_worsened, flagged, check_overdue, {"'{}'" if thin else "parts"}
                    FROM accounts_healthscore WHERE day = %s AND account_id < %s ORDER BY account_id""",  # noqa: S608
                [day, template, limit],
            )
            day += timedelta(days=1)
        if parts_days is not None:
            cursor.execute(f"VACUUM FULL {name}")  # the steady state: later nights reuse the freed space
        cursor.execute(f"VACUUM ANALYZE {name}")
    out = _bytes([name])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {name}")
    return out


def run(*, scale: int) -> Result:
    from django.contrib.auth.models import User

    from accounts.models import HealthScore
    from bench.bench_health import build
    from health import calibration, nightly, partitions

    ensure_database()
    today = date(2026, 11, 23)
    template = today - timedelta(days=1)
    built = build(scale, today)
    with connection.cursor() as cursor:
        # A previous run's months would hold nothing, but are dropped so the layout is this run's.
        for month in partitions.months():
            cursor.execute(f"DROP TABLE {month.name}")
    nightly.recalculate_health(day=template, notify=False)
    # Calibration computed live (the path that reads history) for someone who sees every account.
    viewer, _ = User.objects.get_or_create(username="bench-history-admin", defaults={"is_superuser": True})
    keep_from = today - timedelta(days=settings.HEALTH_PARTS_DAYS)
    measured = []
    have = 1
    for days in _lengths(scale):
        first = template - timedelta(days=days - 1)
        t: dict[str, float] = {}
        with timed(t, "grow"):
            month = first.replace(day=1)
            while month <= template:
                partitions.ensure_months(month, ahead=0)
                month = (month + timedelta(days=32)).replace(day=1)
            if days > have:
                _copy_days(template, first, template - timedelta(days=have), keep_from=keep_from,
                           table=HealthScore._meta.db_table)  # fmt: skip
            for month in partitions.months():
                if month.after <= keep_from and not month.compacted:
                    partitions.compact(month)
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {HealthScore._meta.db_table}")
        have = days
        size = _bytes([month.name for month in partitions.months()])
        counter = AllConnectionsCounter()
        wal = _wal()
        with counter.counting(), timed(t, "nightly"):
            written = nightly.recalculate_health(day=today)
        wal = _wal() - wal
        with timed(t, "calibration"):
            calibration.compute_calibration_report(user=viewer, today=today, stored=False)
        measured.append({"days": days, "size": size, "t": t, "wal": wal, "rows": written, "statements": counter.count})
        HealthScore.objects.filter(day=today).delete()
    longest = max(_lengths(scale))
    sample = min(SAMPLE, scale)
    previous = _old_layout("bench_previous_layout", template, longest, parts_days=PREVIOUS_PARTS_DAYS)
    naive = _old_layout("bench_naive_layout", template, longest, parts_days=None)
    last = measured[-1]
    # The bytes target is a year's history: a month holds the 14 full days, so it is not judged there.
    judged = longest >= YEAR_DAYS
    headlines = [
        Headline(module="history", measure=f"bytes per account-day, {longest} days", scale=scale,
                 value=last["size"]["total"], unit="B", naive=naive["total"],
                 target=f"≤ {TARGET_BYTES} B" if judged else "",
                 met=last["size"]["total"] <= TARGET_BYTES if judged else None),
        Headline(module="history", measure=f"nightly health, {longest} days of history", scale=scale,
                 value=last["t"]["nightly"], unit="s", target=f"< {TARGET_SECONDS} s",
                 met=last["t"]["nightly"] < TARGET_SECONDS),
    ]  # fmt: skip
    rows = "\n".join(
        f"| {m['days']} | {m['size']['rows']:,} | {m['size']['heap']:.0f} / {m['size']['index']:.0f} / "
        f"{m['size']['toast']:.0f} | **{m['size']['total']:.0f}** | {m['t']['grow']:.0f} s | "
        f"**{m['t']['nightly']:.1f} s** | {m['wal'] / 2**20:,.0f} MiB | {m['statements']:,} | "
        f"{m['t']['calibration']:.2f} s |"
        for m in measured
    )

    def layout(name: str, size: dict) -> str:
        return (
            f"| {name} | {size['rows']:,} | {size['heap']:.0f} / {size['index']:.0f} / {size['toast']:.0f} | "
            f"**{size['total']:.0f}** |"
        )

    ok = ("met" if last["size"]["total"] <= TARGET_BYTES else "NOT met") if judged else f"not judged at {longest} days"
    markdown = f"""## History: health history bytes and the nightly run against history length, {scale:,} accounts

`bench/bench_history.py`. Inputs as in the health bench ({built["rows"]}); one real night scored, then
copied to earlier days in day order in the layout the retention job leaves: full rows for
`HEALTH_PARTS_DAYS` = {settings.HEALTH_PARTS_DAYS} days, score, band and flags only before that, and every
month whose rows are all thinned rewritten once (`health.partitions.compact`). Bytes are heap + indexes +
TOAST of every month partition, per row (= per account-day). Each "next night" is
`recalculate_health(day=...)` with band changes announced; WAL is `pg_current_wal_lsn()` before and after.

| Days of history | Rows | Heap / indexes / TOAST B per account-day | Total B per account-day | Build | Next night | WAL written | Statements | Calibration, live |
|---|---|---|---|---|---|---|---|---|
{rows}

Same run, {longest} days of history for the first {sample:,} accounts, the table built by raw SQL in the
shape it had before this layout (`id` key, unique (account, day), (day, account) and two flagged indexes,
float8 parts):

| Layout | Rows | Heap / indexes / TOAST | Total B per account-day |
|---|---|---|---|
{layout(f"this layout ({longest} days, above)", last["size"])}
{layout(f"previous: parts emptied after {PREVIOUS_PARTS_DAYS} days, VACUUM FULL", previous)}
{layout("naive: every row full, nothing thinned", naive)}

- Target ≤ {TARGET_BYTES} B per account-day over the history: **{ok}** ({last["size"]["total"]:.0f} B at
  {longest} days; previous layout {previous["total"]:.0f} B, naive {naive["total"]:.0f} B).
- Nightly time against history length: {", ".join(f"{m['t']['nightly']:.1f} s at {m['days']} days" for m in measured)}.
  The nightly reads only the previous day (one month partition, by key) and writes one day; its
  `ANALYZE` samples only the month written.
- Calibration against history length (the live statement for an administrator, which reads history;
  the page reads the nightly snapshot's counts instead, `docs/benchmarks/calibration.md`):
  {", ".join(f"{m['t']['calibration']:.2f} s at {m['days']} days" for m in measured)}. It reads the
  fortnight before 90 and 180 days ago only, so it grows only until the history covers both windows
  (thinned rows there carry no parts: the bands are counted, the components are not).
"""  # noqa: E501 (Markdown)
    return Result(markdown, headlines)
