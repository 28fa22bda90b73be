from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "playbooks"
    verbose_name = "Programs and playbooks"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
