from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer's own page: a signed, expiring, revocable link per contact to a read-only view of
    the success plan, the service usage statement (and its PDF) and onboarding progress.

    It reads playbooks and renewals and sits beside metrics; front (the account page) creates
    and revokes its links.
    """

    name = "portal"
    verbose_name = "Customer page"
    default_auto_field = "django.db.models.BigAutoField"
