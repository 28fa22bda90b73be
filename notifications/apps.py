from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Telling people what needs them: in-app notifications and the daily digest.

    It sits above playbooks and renewals: it listens to their saves and signals, and
    nothing below imports it (docs: the layer order in the README's architecture notes).
    """

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
