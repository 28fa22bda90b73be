"""API authentication by personal token (csm/tokens.py), with failed tokens counted per address.

Send ``Authorization: Token csm_…`` (or ``Bearer csm_…``). After ``TOKEN_FAILURE_LIMIT`` wrong
tokens from one address within ``TOKEN_FAILURE_WINDOW`` seconds, every token request from that
address answers 429 until the window passes.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from . import tokens
from .security_log import client_ip, log_event

KEYWORDS = (b"token", b"bearer")


def _key(request: Request) -> str:
    return f"token-failures:{request.META.get('REMOTE_ADDR', '')}"


class PersonalTokenAuthentication(BaseAuthentication):
    def authenticate_header(self, request: Request) -> str:
        return "Token"

    def authenticate(self, request: Request) -> tuple | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        key = _key(request)
        if cache.get(key, 0) >= settings.TOKEN_FAILURE_LIMIT:
            log_event("token.throttled", request=request._request, user=False, level=logging.WARNING)
            raise Throttled(wait=settings.TOKEN_FAILURE_WINDOW)
        now = timezone.now()
        token = None
        if len(header) == 2:
            try:
                token = tokens.find_token(header[1].decode(), now=now)
            except UnicodeError:
                token = None
        if token is None:
            cache.add(key, 0, settings.TOKEN_FAILURE_WINDOW)
            cache.incr(key)
            log_event("token.refused", request=request._request, user=False, level=logging.WARNING)
            raise AuthenticationFailed("Invalid, expired or revoked token.")
        tokens.note_use(token, now=now, ip=client_ip(request._request))
        return token.user, token


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    """How the schema documents the token (drf-spectacular finds it by ``target_class``)."""

    target_class = PersonalTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token from /tokens/, sent as `Token csm_…` (or `Bearer csm_…`).",
        }
