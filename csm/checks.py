"""Start-up checks: a wrong DATABASE_URL fails with a sentence, not a traceback."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, Tags, register
from django.db import connections
from django.db.utils import OperationalError


@register(Tags.database)
def check_database_reachable(
    app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[Error]:
    errors = []
    for alias in databases or []:
        connection = connections[alias]
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            settings = connection.settings_dict
            where = f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 'default port'}"
            errors.append(
                Error(
                    f"Cannot connect to the {connection.vendor} database {settings.get('NAME')!s} at {where}.",
                    hint=f"Check DATABASE_URL and that the server is running. Driver said: {str(exc).strip()[:300]}",
                    id="csm.E001",
                )
            )
    return errors
