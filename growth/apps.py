from django.apps import AppConfig


class GrowthConfig(AppConfig):
    name = "growth"
    verbose_name = "Growth: expansion opportunities and renewal checkpoints"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
