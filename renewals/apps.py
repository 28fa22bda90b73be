from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"
    verbose_name = "Renewals"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (tracking events, and contracts following their account's program)
