"""Bulk usage ingestion: upsert daily usage snapshots keyed by account external id and date.

One ``INSERT … ON CONFLICT (account_id, date) DO UPDATE`` per batch (PostgreSQL and SQLite
both speak it), so replaying a batch updates the same rows and creates nothing new. A batch
with any bad row is refused whole, with every bad row named.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet

from .models import Account, UsageSnapshot

MAX_ROWS = 5000
# The largest count a row may carry: the column is a PostgreSQL integer.
MAX_COUNT = 2_147_483_647
COUNT_FIELDS = (
    "licenses_purchased",
    "licenses_active",
    "basic_users",
    "advanced_users",
    "open_support_cases",
    "escalations",
)
REQUIRED_FIELDS = ("account_external_id", "date", "licenses_purchased", "licenses_active")
UPDATE_FIELDS = (*COUNT_FIELDS, "availability_pct")


class RowError(ValidationError):
    """Some rows are bad: ``rows`` lists ``{"row": n, "field": name, "error": text}``, rows counted from 1."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows
        super().__init__([f"row {e['row']}: {e['field']}: {e['error']}" for e in rows])


@dataclass
class UsageResult:
    received: int
    created: int
    updated: int


def parse_count(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError
    if not isinstance(value, int | float | str):
        raise TypeError  # int() would raise it too; said here for the type checker
    number = int(value)
    if number != value and not isinstance(value, str):
        raise ValueError
    if number < 0 or number > MAX_COUNT:
        raise ValueError
    return number


def parse_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError
    return date.fromisoformat(value.strip())


def parse_percent(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite() or number < 0 or number > 100:
        raise ValueError
    return number.quantize(Decimal("0.01"))


def clean_usage_rows(rows: list, *, accounts: QuerySet[Account], first_row: int = 1) -> tuple[list[dict], list[dict]]:
    """Validate ``rows``; return (clean rows with ``account_id``, errors). Touches the database once."""
    errors: list[dict] = []
    external_ids = {str(row.get("account_external_id", "")).strip() for row in rows if isinstance(row, dict)}
    # A NUL cannot be in a stored id, and PostgreSQL refuses it even in a lookup.
    external_ids = {external_id for external_id in external_ids if "\x00" not in external_id}
    account_ids = dict(accounts.filter(external_id__in=external_ids).values_list("external_id", "pk"))
    clean: list[dict] = []
    seen: dict[tuple, int] = {}
    for number, row in enumerate(rows, start=first_row):
        if not isinstance(row, dict):
            errors.append({"row": number, "field": "row", "error": "must be an object"})
            continue
        row_errors = [
            {"row": number, "field": name, "error": "is required"}
            for name in REQUIRED_FIELDS
            if row.get(name) in (None, "")
        ]
        if row_errors:
            errors.extend(row_errors)
            continue
        external_id = str(row["account_external_id"]).strip()
        out: dict = {"account_id": account_ids.get(external_id)}
        if "\x00" in external_id:
            errors.append({"row": number, "field": "account_external_id", "error": "must not contain a NUL character"})
        elif out["account_id"] is None:
            # Unknown and not-yours read the same: another book's ids are not ours to reveal.
            errors.append({"row": number, "field": "account_external_id", "error": f"no account {external_id!r}"})
        try:
            out["date"] = parse_date(row["date"])
        except ValueError:
            errors.append({"row": number, "field": "date", "error": "must be a date, YYYY-MM-DD"})
        for name in COUNT_FIELDS:
            try:
                out[name] = parse_count(row.get(name) if row.get(name) not in (None, "") else 0)
            except (TypeError, ValueError):
                errors.append({"row": number, "field": name, "error": "must be a whole number ≥ 0"})
        try:
            out["availability_pct"] = parse_percent(row.get("availability_pct"))
        except ValueError:
            errors.append({"row": number, "field": "availability_pct", "error": "must be a number from 0 to 100"})
        if out["account_id"] is not None and "date" in out:
            key = (out["account_id"], out["date"])
            if key in seen:
                errors.append({"row": number, "field": "date", "error": f"same account and date as row {seen[key]}"})
            seen.setdefault(key, number)
        clean.append(out)
    return clean, errors


def existing_keys(rows: list[dict]) -> set[tuple[int, date]]:
    account_ids = {row["account_id"] for row in rows}
    dates = {row["date"] for row in rows}
    found = UsageSnapshot.objects.filter(account_id__in=account_ids, date__in=dates).values_list("account_id", "date")
    return set(found)


@transaction.atomic
def upsert_usage(*, rows: list, accounts: QuerySet[Account], first_row: int = 1) -> UsageResult:
    """Insert or update one snapshot per (account, date) of ``rows``; all rows or none.

    ``accounts`` is what the caller may write to (``Account.objects.editable_by(user)``).
    """
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS:,} rows per batch; this one has {len(rows):,}.")
    clean, errors = clean_usage_rows(rows, accounts=accounts, first_row=first_row)
    if errors:
        raise RowError(errors)
    if not clean:
        return UsageResult(received=0, created=0, updated=0)
    if connection.vendor == "postgresql":
        created = upsert_postgresql(clean)
    else:
        before = existing_keys(clean)
        UsageSnapshot.objects.bulk_create(
            [UsageSnapshot(**row) for row in clean],
            update_conflicts=True,
            unique_fields=["account", "date"],
            update_fields=list(UPDATE_FIELDS),
            batch_size=1000,
        )
        created = sum((row["account_id"], row["date"]) not in before for row in clean)
    return UsageResult(received=len(clean), created=created, updated=len(clean) - created)


PG_TYPES = {"account_id": "bigint", "date": "date", "availability_pct": "numeric"}


def upsert_postgresql(rows: list[dict]) -> int:
    """One statement: the batch as column arrays through unnest(); returns how many rows were new.

    Same effect as the ``bulk_create(update_conflicts=True)`` path, without the ORM preparing
    every value one by one (the bulk of the time at 1,000-row batches).
    """
    table = UsageSnapshot._meta.db_table
    columns = ["account_id", "date", *UPDATE_FIELDS]
    arrays = ", ".join(f"%s::{PG_TYPES.get(name, 'integer')}[]" for name in columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in UPDATE_FIELDS)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "  # noqa: S608 (names are ours)
        f"ON CONFLICT (account_id, date) DO UPDATE SET {updates} RETURNING (xmax = 0)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[row[name] for row in rows] for name in columns])
        return sum(1 for (inserted,) in cursor.fetchall() if inserted)
