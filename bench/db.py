"""Helpers shared by benchmark modules: a fresh schema and bulk data on PostgreSQL."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.backends.utils import CursorWrapper
from django.utils import timezone


def ensure_database() -> None:
    """Create the bench database if missing, then migrate it."""
    import psycopg

    settings = connection.settings_dict
    name = settings["NAME"]
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    admin_dsn = f"host={host} port={port} user={settings.get('USER') or 'postgres'} dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


@contextmanager
def timed(results: dict, key: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    results[key] = time.perf_counter() - started


class QueryCounter:
    """Count statements sent on the default connection while active."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable, sql: str, params: object, many: bool, context: dict) -> object:
        self.count += 1
        return execute(sql, params, many, context)

    @contextmanager
    def counting(self) -> Iterator["QueryCounter"]:
        with connection.execute_wrapper(self):
            yield self


class AllConnectionsCounter(QueryCounter):
    """Count statements on the default connection and on every connection opened while active
    (the worker threads of a parallel job open their own)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __call__(self, execute: Callable, sql: str, params: object, many: bool, context: dict) -> object:
        with self._lock:
            self.count += 1
        return execute(sql, params, many, context)

    def _hook(self, sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
        if self not in connection.execute_wrappers:  # the default connection may reconnect inside the block
            connection.execute_wrappers.append(self)
            self._hooked.append(connection)

    @contextmanager
    def counting(self) -> Iterator["QueryCounter"]:
        self._hooked: list[BaseDatabaseWrapper] = []
        connection_created.connect(self._hook, weak=False)
        try:
            with connection.execute_wrapper(self):
                yield self
        finally:
            connection_created.disconnect(self._hook)
            for hooked in self._hooked:
                if self in hooked.execute_wrappers:
                    hooked.execute_wrappers.remove(self)


def literal_defaults(model: type[models.Model], given: set[str] = frozenset()) -> dict[str, object]:
    """NOT NULL columns without a database default, with each field's Python default.

    Bulk SQL names only the columns it cares about; other issues keep adding columns with
    Python defaults, and this keeps the bulk inserts working as they land.
    """
    found = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given or field.null:
            continue
        if getattr(field, "db_default", models.NOT_PROVIDED) is not models.NOT_PROVIDED or not field.has_default():
            continue
        default = field.get_default()
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            default = timezone.now()
        found[field.column] = field.get_db_prep_save(default, connection)
    return found


def _secondary_indexes(cursor: CursorWrapper, table: str) -> list[tuple[str, str, str]]:
    """(kind, name, definition) of the indexes a bulk load may drop: every index but the primary
    key, and unique constraints that no foreign key depends on."""
    cursor.execute(
        """
        SELECT CASE WHEN con.oid IS NULL THEN 'index' ELSE 'constraint' END, ic.relname,
               CASE WHEN con.oid IS NULL THEN pg_get_indexdef(i.indexrelid) ELSE pg_get_constraintdef(con.oid) END
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
          AND (con.oid IS NULL OR con.contype = 'u')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint fk WHERE fk.contype = 'f' AND fk.conindid = i.indexrelid)
        ORDER BY ic.relname
        """,
        [table],
    )
    return cursor.fetchall()


@contextmanager
def bulk_load(*model_list: type[models.Model]) -> Iterator[None]:
    """One transaction for a set-based data build into ``model_list``'s tables, loaded the way
    PostgreSQL's documentation advises for bulk loads (the tables themselves stay ordinary, logged
    tables with all their indexes and constraints once the block ends):

    - secondary indexes and unique constraints are dropped first and rebuilt once at the end,
      with a large ``maintenance_work_mem``, instead of being updated row by row;
    - foreign-key triggers are off for this session (``session_replication_role = replica``): the
      build writes consistent ids by construction, and the constraints stay in place for the runs;
    - NOT NULL columns the build SQL leaves out get their Python default as a column default for
      the duration of the block.
    """
    tables = [model._meta.db_table for model in model_list]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL session_replication_role = replica")
        defaults = {model._meta.db_table: literal_defaults(model) for model in model_list}
        for table, columns in defaults.items():
            for column, value in columns.items():
                cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT %s', [value])
        dropped = {table: _secondary_indexes(cursor, table) for table in tables}
        for table, indexes in dropped.items():
            for kind, name, _ in indexes:
                if kind == "constraint":
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                else:
                    cursor.execute(f'DROP INDEX "{name}"')
        yield
        for table, indexes in dropped.items():
            for kind, name, definition in indexes:
                if kind == "constraint":
                    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                else:
                    cursor.execute(definition)
        for table, columns in defaults.items():
            for column in columns:
                cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')


def vacuum_analyze() -> None:
    """As autovacuum would after a bulk load: statistics, and a visibility map for index-only scans."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def bench_owner(cursor: CursorWrapper, *, now: object) -> int:
    """The id of the first user (the CSM who owns the bench book), created if there is none."""
    cursor.execute("SELECT id FROM auth_user ORDER BY id LIMIT 1")
    row = cursor.fetchone()
    if row:
        return row[0]
    cursor.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) "
        "VALUES ('!', false, 'bench', 'Bench', 'CSM', 'bench@csm.test', false, true, %s) RETURNING id",
        [now],
    )
    return cursor.fetchone()[0]
