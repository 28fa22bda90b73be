from django.apps import AppConfig


class CsmConfig(AppConfig):
    name = "csm"
    verbose_name = "Platform"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import (
            beat,
            checks,  # noqa: F401  (registers the system checks)
            security_receivers,  # noqa: F401  (sign-in events to the security log)
            sessions,  # noqa: F401  (records sign-ins and sign-outs)
        )

        post_migrate.connect(beat.sync_after_migrate, sender=self, dispatch_uid="csm.beat.sync")
