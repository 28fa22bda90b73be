from django.apps import AppConfig


class CsmConfig(AppConfig):
    name = "csm"
    verbose_name = "Platform"

    def ready(self) -> None:
        from accounts.signals import health_bands_changed
        from renewals.signals import renewal_stage_changed

        from . import (
            checks,  # noqa: F401  (registers the system checks)
            sessions,  # noqa: F401  (records sign-ins and sign-outs)
            webhooks,
        )

        health_bands_changed.connect(webhooks.on_health_bands_changed, dispatch_uid="csm.webhooks.health")
        renewal_stage_changed.connect(webhooks.on_renewal_stage_changed, dispatch_uid="csm.webhooks.renewal")
