from django.apps import AppConfig


class SurveysConfig(AppConfig):
    """The customer's own voice: NPS, CSAT and exit surveys sent by email and answered by one click.

    It sits between playbooks and health: it opens playbook tasks (a detractor's follow-up) and
    listens to renewals' signals (an exit survey when a renewal is lost), and health reads its
    answers as a health component.
    """

    name = "surveys"
    verbose_name = "Surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
