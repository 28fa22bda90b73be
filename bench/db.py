"""Helpers shared by benchmark modules: a fresh schema and bulk data on PostgreSQL."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management import call_command
from django.db import connection


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
