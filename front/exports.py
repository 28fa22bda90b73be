"""CSV export of the account list, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from django.db.models import QuerySet

from accounts.models import Account
from csm.csvcells import safe_cell

HEADER = [
    "Name",
    "External id",
    "Owner",
    "Program",
    "Segment",
    "Stage",
    "Next renewal",
    "Recurring revenue",
    "Currency",
    "Health",
]


class _Echo:
    """A file-like object whose write returns the line, for streaming."""

    def write(self, value: str) -> str:
        return value


def account_rows(accounts: QuerySet[Account]) -> Iterator[list[str]]:
    for account in accounts.iterator(chunk_size=2000):
        owner = account.owner.get_full_name() or account.owner.username if account.owner else ""
        renewal: date | None = account.next_renewal
        yield [
            account.name,
            account.external_id or "",
            owner,
            account.program.name if account.program else "",
            account.get_segment_display(),
            account.get_lifecycle_stage_display(),
            renewal.isoformat() if renewal else "",
            # Several currencies: no sum (the account page shows each, and the total at stated rates).
            f"{account.arr:.2f}" if account.arr is not None and account.arr_currency != "*" else "",
            ("several" if account.arr_currency == "*" else account.arr_currency) if account.arr is not None else "",
            getattr(account, "band", "") or "",
        ]


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
