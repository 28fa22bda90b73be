from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from accounts.signals import health_bands_changed
        from renewals.signals import renewal_stage_changed, renewal_stages_changed

        from . import services

        health_bands_changed.connect(services.on_health_bands_changed, dispatch_uid="webhooks.health")
        renewal_stage_changed.connect(services.on_renewal_stage_changed, dispatch_uid="webhooks.renewal")
        renewal_stages_changed.connect(services.on_renewal_stages_changed, dispatch_uid="webhooks.renewals")
