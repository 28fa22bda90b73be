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


@register(Tags.security)
def check_sso_role_map(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    """Every value of OIDC_ROLE_MAP names a csm role, and SSO on has at least one mapping."""
    from django.conf import settings

    from .roles import ROLES

    errors = [
        Error(
            f"OIDC_ROLE_MAP maps {value!r} to {role!r}, which is not a csm role.",
            hint=f"Use one of: {', '.join(ROLES)}.",
            id="csm.E002",
        )
        for value, role in settings.OIDC_ROLE_MAP.items()
        if role not in ROLES
    ]
    if settings.OIDC_ENABLED and not settings.OIDC_ROLE_MAP:
        errors.append(
            Error(
                "Single sign-on is on (OIDC_CLIENT_ID) but OIDC_ROLE_MAP is empty: everyone would be refused.",
                hint='Set OIDC_ROLE_MAP, e.g. {"csm-managers": "Manager", "csm-users": "CSM"}.',
                id="csm.E003",
            )
        )
    return errors
