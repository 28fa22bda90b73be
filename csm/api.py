"""The API's router and its exception handler.

Apps register their viewsets on ``router`` in their own ``api.py``; ``csm/urls.py``
imports those modules before including ``router.urls``.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import routers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

router = routers.DefaultRouter()


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
