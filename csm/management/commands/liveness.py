"""Exit 1 when the named process's heartbeat is stale: the docker-compose healthchecks."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from csm import operations


class Command(BaseCommand):
    help = "Check the beat or worker heartbeat; exit 1 when it is stale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", choices=sorted(operations.STALE_AFTER))

    def handle(self, *args: Any, process: str, **options: object) -> None:
        state = operations.liveness(now=timezone.now())[process]
        if not state.alive:
            raise CommandError(f"{process}: last heartbeat {state.at or 'never'}")
        self.stdout.write(f"{process}: alive, last heartbeat {state.at:%Y-%m-%d %H:%M:%S}")
