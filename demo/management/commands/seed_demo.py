import random
import time
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Account
from csm import freshness
from demo import accounts as demo

# Each app adds its own demo rows after the core: ``extend(*, rng, today, account_ids)``.
EXTENSIONS = ("demo.renewals", "demo.playbooks", "demo.health", "demo.growth")


class Command(BaseCommand):
    help = "Load a realistic demo book: CSMs, programs, accounts, contacts, contracts, usage, touchpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=300, help="How many customer accounts to create.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when accounts already exist.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable data.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off (a demo server): it creates users with a known password.",
        )

    def handle(
        self, *args: object, accounts: int, if_empty: bool, seed: int, allow_production: bool, **options: object
    ) -> None:
        # The demo users share one published password: never in production unless asked for.
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "seed_demo creates users with a known password and refuses to run with DJANGO_DEBUG=0. "
                "Create the first admin with `manage.py ensure_admin` or `createsuperuser`; "
                "pass --allow-production only for a throw-away demo server."
            )
        if if_empty and Account.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        started = time.monotonic()
        rng = random.Random(seed)
        today = timezone.localdate()
        result = demo.seed_core(accounts=accounts, today=today, rng=rng)
        for module_name in EXTENSIONS:
            try:
                module = import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.extend(rng=rng, today=today, account_ids=result.account_ids)
        freshness.bump()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(result.account_ids):,} accounts in {time.monotonic() - started:.1f} s. "
                f"Sign in as alice (CSM), carol (manager) or admin with password {settings.CSM_DEMO_PASSWORD!r}."
            )
        )
