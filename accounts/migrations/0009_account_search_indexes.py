"""Indexes for the account list's search (PostgreSQL only; SQLite scans, which is fine at its size).

The search is ``name__icontains`` or ``external_id__iexact``: on PostgreSQL
``UPPER(name::text) LIKE UPPER('%q%')`` and ``UPPER(external_id::text) = UPPER('q')``. A trigram
GIN index serves the first, a plain index on the upper-cased id the second, and the two combine
(BitmapOr) instead of reading every account.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS account_name_trgm_idx ON accounts_account USING gin (UPPER(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS account_external_upper_idx ON accounts_account (UPPER(external_id::text))",
]
DROP = [
    "DROP INDEX IF EXISTS account_name_trgm_idx",
    "DROP INDEX IF EXISTS account_external_upper_idx",
]


def run(statements: list[str]):
    def operation(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_touchpoint_covering_index")]

    operations = [migrations.RunPython(run(CREATE), run(DROP), elidable=False)]
