"""The user's own sessions: the list, and sign out everywhere (csm/sessions.py)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import sessions
from .requests import SignedInHttpRequest


@require_http_methods(["GET", "HEAD", "POST"])
def session_list(request: SignedInHttpRequest) -> HttpResponse:
    if request.method == "POST":
        ended = sessions.end_all_sessions(request.user)
        logout(request)
        messages.success(request, f"Signed out everywhere ({ended} session{'s' if ended != 1 else ''}).")
        return redirect("login")
    return render(
        request,
        "registration/sessions.html",
        {
            "sessions": sessions.sessions_of(request.user),
            "current": request.session.session_key,
            "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
        },
    )
