"""Monthly partitions of ``HealthScore`` on PostgreSQL (a plain table on SQLite, where all of this is a no-op).

The table is ``PARTITION BY RANGE (day)`` (migration ``accounts.0005``): one partition per month,
named ``accounts_healthscore_pYYYYMM``, and a DEFAULT partition that catches any day whose month has
no partition yet. The nightly job creates the current and next month before it writes
(``ensure_months``); the retention job detaches and drops whole months past the retention window
(``drop_before``) and rewrites a month once all its rows are thinned (``compact``), so an old month
is stored densely, in key order, and never touched again.
"""

from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from accounts.models import HealthScore

TABLE = HealthScore._meta.db_table
DEFAULT = f"{TABLE}_default"
COMPACTED = "compacted"
# Every partition's indexes while it is written (accounts.0005 has a copy): the (account, day) key,
# which the nightly job's previous-day read and every lookup by account use; a btree on the day
# (deduplicated: a few bytes per row), for a day's rows and the latest run; the flagged rows in the
# Today page's order.
WRITABLE_INDEXES = (
    "CREATE UNIQUE INDEX {name}_key ON {name} (account_id, day)",
    "CREATE INDEX {name}_day ON {name} (day)",
    "CREATE INDEX {name}_flagged ON {name} (day) WHERE flagged",
    "CREATE INDEX {name}_rank ON {name} (day, score_drop DESC NULLS LAST, score, account_id) WHERE flagged",
)


@dataclass(frozen=True)
class Month:
    name: str
    first: date  # first day in the partition
    after: date  # first day of the next month
    compacted: bool


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def months() -> list[Month]:
    """The month partitions, oldest first (empty on SQLite)."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_inherits i
               JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
               WHERE p.relname = %s AND c.relname <> %s ORDER BY c.relname""",
            [TABLE, DEFAULT],
        )
        rows = cursor.fetchall()
    out = []
    for name, comment in rows:
        stamp = name.rsplit("_p", 1)[1]
        first = date(int(stamp[:4]), int(stamp[4:]), 1)
        out.append(Month(name, first, _next(first), comment == COMPACTED))
    return out


def ensure_months(day: date, *, ahead: int = 1) -> list[str]:
    """Create the partitions of ``day``'s month and the ``ahead`` months after it; return those created.

    Rows already in the DEFAULT partition for such a month (a day written before its month existed)
    are moved into it in the same transaction, since PostgreSQL refuses a partition whose range the
    DEFAULT partition holds rows of.
    """
    if not partitioned():
        return []
    existing = {month.name for month in months()}
    created = []
    month = day.replace(day=1)
    for _ in range(ahead + 1):
        name = f"{TABLE}_p{month:%Y%m}"
        if name not in existing:
            _create(name, month, _next(month))
            created.append(name)
        month = _next(month)
    return created


def _create(name: str, first: date, after: date) -> None:
    bounds = [first, after]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE day >= %s AND day < %s)", bounds)  # noqa: S608
        (strays,) = cursor.fetchone()
        if strays:
            cursor.execute(
                f"CREATE TEMP TABLE healthscore_moving ON COMMIT DROP AS SELECT * FROM {DEFAULT} "  # noqa: S608
                "WHERE day >= %s AND day < %s",
                bounds,
            )
            cursor.execute(f"DELETE FROM {DEFAULT} WHERE day >= %s AND day < %s", bounds)  # noqa: S608
        cursor.execute(
            f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s) WITH (toast_tuple_target = 128)",
            bounds,
        )
        for statement in WRITABLE_INDEXES:
            cursor.execute(statement.format(name=name))
        if strays:
            cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM healthscore_moving")  # noqa: S608
            cursor.execute("DROP TABLE healthscore_moving")  # within an outer transaction, before its commit


def drop_before(day: date) -> list[str]:
    """Detach and drop every month partition that ends on or before ``day``; return their names.

    Dropping a month is a catalog change, not a DELETE of its rows: no WAL per row, no vacuum after.
    Rows before ``day`` in the DEFAULT partition are left to the retention job's bounded DELETEs.
    """
    dropped = []
    for month in months():
        if month.after > day:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            # Deferred key checks of rows written in this transaction run now, not at commit:
            # PostgreSQL drops no table with pending checks (only ever the case inside a test).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {month.name}")
            cursor.execute(f"DROP TABLE {month.name}")
        dropped.append(month.name)
    return dropped


def compact(month: Month) -> None:
    """Rewrite a month whose rows are all thinned, once, into its read-only layout.

    The (account, day) key and the day btree (36 bytes a row together) give way to a deduplicated
    btree on ``account_id`` (each account's 28-31 days share one entry: ~7 bytes a row), which
    serves every lookup by account, and a BRIN on ``day`` (a few pages for the month), which serves
    a day's rows because ``CLUSTER`` has just written the heap in day order, densely, without the
    thinning UPDATEs' dead versions. Uniqueness of (account, day) is no longer checked in such a
    month: nothing writes there but a deliberate recalculation of an old day, which deletes the
    day's rows before it inserts them. Holds the month's lock for the rewrite (seconds per million
    rows); then marks the month so no later run rewrites it again.
    """
    name = month.name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in drop_before
        cursor.execute(f"DROP INDEX IF EXISTS {name}_key")
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name}_account ON {name} (account_id) WITH (fillfactor = 100)")
        for index in ("flagged", "rank"):
            cursor.execute(f"ALTER INDEX IF EXISTS {name}_{index} SET (fillfactor = 100)")
        cursor.execute(f"CLUSTER {name} USING {name}_day")
        cursor.execute(f"DROP INDEX {name}_day")
        cursor.execute(f"CREATE INDEX {name}_day_brin ON {name} USING brin (day) WITH (pages_per_range = 16)")
        cursor.execute(f"ANALYZE {name}")
        cursor.execute(f"COMMENT ON TABLE {name} IS '{COMPACTED}'")
