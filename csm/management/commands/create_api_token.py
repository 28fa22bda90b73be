"""Create a personal API token for a user (an integration's user, say) and print it once."""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from csm import tokens


class Command(BaseCommand):
    help = "Create a named API token for USER and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user")
        parser.add_argument("--name", required=True)
        parser.add_argument("--expires-on", type=date.fromisoformat, default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = get_user_model().objects.get(username=options["user"], is_active=True)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No active user {options['user']!r}.") from error
        try:
            _, raw = tokens.create_token(
                user=user, name=options["name"], expires_on=options["expires_on"], now=timezone.now()
            )
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from error
        self.stdout.write(raw)
