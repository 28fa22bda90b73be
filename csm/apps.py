from django.apps import AppConfig


class CsmConfig(AppConfig):
    name = "csm"
    verbose_name = "Platform"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
