import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from csm import freshness
from health import nightly


class Command(BaseCommand):
    help = "Recalculate every account's health score for a day (default today). Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD; default today.")
        parser.add_argument("--chunk-size", type=int, default=nightly.CHUNK_SIZE, help="Accounts per SQL statement.")

    def handle(self, *args: Any, day: str | None, chunk_size: int, **options: object) -> None:
        try:
            when = date.fromisoformat(day) if day else timezone.localdate()
        except ValueError:
            raise CommandError(f"--day must be YYYY-MM-DD, not {day!r}.") from None
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        started = time.monotonic()
        rows = nightly.recalculate_health(day=when, chunk_size=chunk_size)
        freshness.bump()
        self.stdout.write(
            self.style.SUCCESS(f"Scored {rows:,} accounts for {when} in {time.monotonic() - started:.1f} s.")
        )
