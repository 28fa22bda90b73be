"""Token authentication that counts failed tokens per address: guessing ends in 429s.

After ``TOKEN_FAILURE_LIMIT`` wrong tokens from one address within ``TOKEN_FAILURE_WINDOW``
seconds, every token request from that address answers 429 until the window passes.
"""

from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request


def _key(request: Request) -> str:
    return f"token-failures:{request.META.get('REMOTE_ADDR', '')}"


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request) -> tuple | None:
        if not request.META.get("HTTP_AUTHORIZATION"):
            return super().authenticate(request)
        key = _key(request)
        if cache.get(key, 0) >= settings.TOKEN_FAILURE_LIMIT:
            raise Throttled(wait=settings.TOKEN_FAILURE_WINDOW)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            cache.add(key, 0, settings.TOKEN_FAILURE_WINDOW)
            cache.incr(key)
            raise
