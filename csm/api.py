"""The API's plumbing: exception handler, pagination and throttle.

The router, with every viewset registered in one list, is in ``csm/urls.py``: it imports the
apps' viewsets, and csm/urls.py is the one csm module allowed to (docs/architecture.md).
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn Django's ValidationError (raised by services) into a 400 with field errors."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


def parsed(serializer_class: type, request: Request, **kwargs: object) -> dict:
    """The request body checked by ``serializer_class`` (a 400 with field errors if bad); the
    service the view calls holds the rules."""
    serializer = serializer_class(
        kwargs.pop("instance", None), data=request.data, context={"request": request}, **kwargs
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Pagination(PageNumberPagination):
    """Page-number pagination; clients may ask for up to 500 rows a page with ``page_size``."""

    page_size_query_param = "page_size"
    max_page_size = 500


class IngestThrottle(ScopedRateThrottle):
    """Bulk endpoints get their own, smaller budget (``DEFAULT_THROTTLE_RATES['ingest']``)."""

    scope_attr = "throttle_scope"

    def get_rate(self) -> str:
        # The stubs type the rates as numbers (they are "N/period" strings) and scope as optional
        # (allow_request sets it before calling this).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, "3600/hour")  # type: ignore[arg-type, return-value]


def as_json(value: object) -> object:
    """Money and rates as exact decimal strings ("120.00", "120.0"), never floats."""
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
