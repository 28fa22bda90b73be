"""Sessions: idle timeout with an absolute cap, the list of one's sessions, sign out everywhere.

The session's expiry (SESSION_COOKIE_AGE, the idle timeout) moves on when the session is saved;
saving on every request would write the session row on every page, so the middleware saves it
at most once a minute (``REFRESH_SECONDS``): idle time is measured to the minute.
"""

import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import logout, user_logged_in, user_logged_out
from django.contrib.auth.models import User
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from .models import UserSession

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
REFRESH_SECONDS = 60


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in, dispatch_uid="csm.sessions.signed_in")
def _signed_in(sender: type, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SIGNED_IN_AT] = request.session[SEEN_AT] = now
    if request.session.session_key is None:
        request.session.save()
    at = timezone.now()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": _client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "created_at": at,
            "last_seen_at": at,
        },
    )


@receiver(user_logged_out, dispatch_uid="csm.sessions.signed_out")
def _signed_out(sender: type, request: HttpRequest | None, user: object, **kwargs: Any) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            now = time.time()
            signed_in = request.session.get(SIGNED_IN_AT)
            if signed_in is None or now - signed_in > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
            elif now - request.session.get(SEEN_AT, 0) > REFRESH_SECONDS:
                request.session[SEEN_AT] = now  # saved at the end: the idle timeout starts again
                UserSession.objects.filter(session_key=request.session.session_key).update(last_seen_at=timezone.now())
        return self.get_response(request)


def sessions_of(user: User) -> list[UserSession]:
    return list(UserSession.objects.filter(user=user))


def end_all_sessions(user: User, *, keep: str | None = None) -> int:
    """End every session of ``user`` (except ``keep``, the current one, when given)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    return len(keys)
