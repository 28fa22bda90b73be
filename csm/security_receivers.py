"""Sign-in events to the security log: success, failure and lockout (csm/security_log.py)."""

import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .security_log import log_event


@receiver(user_logged_in, dispatch_uid="csm.security.signed_in")
def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log_event("signin.succeeded", request=request, user=user, backend=getattr(user, "backend", None))


@receiver(user_logged_out, dispatch_uid="csm.security.signed_out")
def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log_event("signout", request=request, user=user)


@receiver(user_login_failed, dispatch_uid="csm.security.sign_in_failed")
def sign_in_failed(sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The user name tried (never the password: Django has already masked the credentials).
    tried = str(credentials.get("username", ""))[:150]
    log_event("signin.failed", request=request, user=False, username_tried=tried, level=logging.WARNING)


@receiver(user_locked_out, dispatch_uid="csm.security.locked_out")
def locked_out(sender: Any, request: HttpRequest | None, username: str | None = None, **kwargs: Any) -> None:
    log_event(
        "signin.locked_out",
        request=request,
        user=False,
        username_tried=(username or "")[:150],
        ip=kwargs.get("ip_address"),
        level=logging.WARNING,
    )
