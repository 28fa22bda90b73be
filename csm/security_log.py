"""Security events as structured log lines: who, from where, which request, what happened.

Every event goes to the ``csm.security`` logger with the fields ``event``, ``user``, ``ip`` and
``request_id`` (from ``RequestIdMiddleware``) plus its own details. In production
(``DJANGO_DEBUG=0``) each line is one JSON object (``JsonFormatter``), in development a readable
line (``ReadableFormatter``). docs/security.md lists the events.
"""

import json
import logging
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("csm.security")

_request_id: ContextVar[str] = ContextVar("csm_request_id", default="")
_client_ip: ContextVar[str] = ContextVar("csm_client_ip", default="")

# Attributes every LogRecord has; anything else on a record was passed as ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return _client_ip.get()
    return request.META.get("REMOTE_ADDR", "") or ""


def request_id() -> str:
    return _request_id.get()


def _user_name(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return str(user.get_username())


def log_event(
    event: str, *, request: HttpRequest | None = None, user: Any = None, level: int = logging.INFO, **details: Any
) -> None:
    """Write one security event. ``user`` defaults to the request's signed-in user."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    fields = {"event": event, "user": _user_name(user), "ip": client_ip(request), "request_id": request_id()}
    fields.update({key: value for key, value in details.items() if value is not None})
    logger.log(level, event, extra={"security": fields})


class RequestIdMiddleware:
    """Give each request an id (a caller's ``X-Request-ID`` if it is sane), log it, return it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if 8 <= len(given) <= 64 and given.replace("-", "").isalnum() else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        id_token, ip_token = _request_id.set(rid), _client_ip.set(request.META.get("REMOTE_ADDR", "") or "")
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(id_token)
            _client_ip.reset(ip_token)
        response["X-Request-ID"] = rid
        if response.status_code == 403:
            log_event("permission.denied", request=request, level=logging.WARNING, path=request.path)
        return response


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = dict(getattr(record, "security", {}) or {})
    if not fields:
        fields = {"request_id": request_id()} if request_id() else {}
        fields.update({k: v for k, v in vars(record).items() if k not in _STANDARD and k != "security"})
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class ReadableFormatter(logging.Formatter):
    """``time level logger message key=value …`` for a developer's terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        extras = " ".join(f"{key}={value}" for key, value in _fields(record).items() if value not in ("", None))
        text = f"{stamp} {record.levelname:<7} {record.name} {record.getMessage()}"
        text = f"{text} {extras}" if extras else text
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text
