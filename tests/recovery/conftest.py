"""The renewals fixtures (a local SMTP sink) for the recovery tests."""

from tests.renewals.conftest import smtp_settings, smtp_sink

__all__ = ["smtp_settings", "smtp_sink"]


def pytest_collection_modifyitems(config, items) -> None:
    """The fault suite runs on PostgreSQL (the CI run with Redis): a worker, beat and the test
    writing one SQLite file at once would test SQLite's locking, not recovery. Deselected, not
    skipped, on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    fault = [item for item in items if item.get_closest_marker("fault")]
    if fault:
        config.hook.pytest_deselected(items=fault)
        items[:] = [item for item in items if not item.get_closest_marker("fault")]
