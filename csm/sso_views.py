"""The SSO pages: start sign-in at the provider, its callback, sign-out that ends both sessions.

The protocol is mozilla-django-oidc's; these views add the endpoints from discovery and a page
that says why a sign-in was refused (never a 500 when the provider is away or answers oddly).
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import sso
from .security_log import log_event

REFUSED_CODE = "The identity provider did not accept this sign-in (it may have been used already). Start again."
STALE = "This sign-in could not be checked: it may be old, or started in another browser. Start again."


def refused(request: HttpRequest, reasons: list[str], *, status: int) -> HttpResponse:
    reason = " ".join(reasons)[:500]
    log_event("sso.refused", request=request, user=False, status=status, reason=reason, level=logging.WARNING)
    return render(request, "registration/sso_refused.html", {"reasons": reasons}, status=status)


def unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    reason = f"The identity provider could not be reached or answered oddly. Try again later. ({exc})"
    return refused(request, [reason], status=502)


class SSOLoginView(OIDCAuthenticationRequestView):
    """Send the browser to the provider with state, nonce and a PKCE challenge."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the endpoints are read per request, from discovery

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso.enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso.endpoints().authorization
        except sso.ProviderUnavailableError as exc:
            return unavailable(request, exc)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SSOCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code; a refusal is a page that says why."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso.enabled():
            raise Http404("Single sign-on is not configured.")
        error = request.GET.get("error")
        if error:
            described = request.GET.get("error_description") or error
            request.csm_sso_refusal = [f"The identity provider did not sign you in: {described[:300]}."]  # type: ignore[attr-defined]
        try:
            return super().get(request)
        except (SuspiciousOperation, jwt.PyJWTError):  # state, nonce, signature, expiry, audience
            return refused(request, [STALE], status=400)
        except requests.HTTPError as exc:
            if exc.response is not None and 400 <= exc.response.status_code < 500:
                # e.g. a code already used or too old: the provider answers invalid_grant.
                return refused(request, [REFUSED_CODE], status=403)
            return unavailable(request, exc)
        except (requests.RequestException, sso.ProviderUnavailableError, ValueError) as exc:
            return unavailable(request, exc)

    def login_failure(self) -> HttpResponse:
        reasons = getattr(self.request, "csm_sso_refusal", None) or [STALE]
        return refused(self.request, reasons, status=403)


class LogoutView(auth_views.LogoutView):
    """Django's sign-out; a session made by SSO then ends at the provider too, when it offers
    an end_session endpoint (it sends the browser back to the sign-in page)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        by_sso = sso.signed_in_by_sso(request)
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if by_sso:
            after = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
            url = sso.end_session_url(id_token=id_token, after=after)
            if url:
                return HttpResponseRedirect(url)
        return response


def needs_passwords(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Password pages (change, reset) are not there when password sign-in is off."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not sso.password_sign_in():
            raise Http404("Password sign-in is off: sign in with SSO.")
        return view(request, *args, **kwargs)

    return wrapped
