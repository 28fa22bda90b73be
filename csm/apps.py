from django.apps import AppConfig


class CsmConfig(AppConfig):
    name = "csm"
    verbose_name = "Platform"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.signals import health_bands_changed
        from renewals.signals import renewal_stage_changed

        from . import (
            beat,
            checks,  # noqa: F401  (registers the system checks)
            webhooks,
        )

        post_migrate.connect(beat.sync_after_migrate, sender=self, dispatch_uid="csm.beat.sync")

        health_bands_changed.connect(webhooks.on_health_bands_changed, dispatch_uid="csm.webhooks.health")
        renewal_stage_changed.connect(webhooks.on_renewal_stage_changed, dispatch_uid="csm.webhooks.renewal")
