"""The renewals fixtures (a local SMTP sink) for the recovery tests."""

from tests.renewals.conftest import smtp_settings, smtp_sink

__all__ = ["smtp_settings", "smtp_sink"]
