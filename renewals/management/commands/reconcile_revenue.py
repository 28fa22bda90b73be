from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from renewals import reconcile


class Command(BaseCommand):
    help = "Check that recurring revenue from the ledger equals that of the contracts in force on a day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        found = reconcile.differences(on=day)
        for diff in found:
            self.stdout.write(
                f"account {diff.account_id} {diff.currency}: ledger {diff.ledger} ≠ contracts {diff.contracts}"
            )
        if found:
            raise CommandError(f"{len(found)} difference(s) on {day}")
        self.stdout.write(f"Ledger reconciled with contracts as of {day}: 0 differences.")
