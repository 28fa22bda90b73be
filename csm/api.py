"""The API's plumbing: exception handler, pagination and throttle.

The router, with every viewset registered in one list, is in ``csm/urls.py``: it imports the
apps' viewsets, and csm/urls.py is the one csm module allowed to (docs/architecture.md).
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from csm import input_guards


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
    """The request body checked by ``serializer_class`` (a 400 with field errors if bad, also when
    it only names rows the caller cannot use); the service the view calls holds the rules."""
    serializer = serializer_class(
        kwargs.pop("instance", None), data=request.data, context={"request": request}, **kwargs
    )
    if errors := type_errors(serializer.fields, request.data):
        raise ValidationError(errors)
    if not serializer.is_valid():
        raise ValidationError(serializer.errors)
    return serializer.validated_data


def type_errors(fields: Mapping[str, serializers.Field], data: object) -> dict:
    """Values of the wrong JSON type, which DRF would coerce: ``0`` for a yes/no, ``5`` for a text,
    ``"5"`` for a whole number, ``12.5`` for a decimal string. The schema promises JSON types; the
    server holds to them."""
    if not isinstance(data, dict):
        return {}
    errors: dict = {}
    for name, field in fields.items():
        if field.read_only or name not in data or data[name] is None:
            continue
        value = data[name]
        if isinstance(field, serializers.ListSerializer):
            child = field.child
            if isinstance(value, list) and isinstance(child, serializers.Serializer):
                rows = {index: found for index, item in enumerate(value) if (found := type_errors(child.fields, item))}
                if rows:
                    errors[name] = rows
        elif isinstance(field, serializers.Serializer):
            if found := type_errors(field.fields, value):
                errors[name] = found
        elif isinstance(field, serializers.DecimalField) and not isinstance(value, str):
            # Money stays exact: "1200.00", never a binary float (answers are strings too).
            errors[name] = [input_guards.DECIMAL_MESSAGE]
        elif isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
            errors[name] = ["Must be true or false."]
        elif isinstance(field, serializers.CharField | serializers.ChoiceField) and not isinstance(value, str):
            errors[name] = ["Must be a string."]
        elif isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField) and (
            isinstance(value, bool) or not isinstance(value, int)
        ):
            errors[name] = ["Must be a whole number."]
    return errors


class Pagination(PageNumberPagination):
    """Page-number pagination; clients may ask for up to 500 rows a page with ``page_size``."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int | None:
        # DRF reads a page_size that is not a whole number from 1 as "the default"; the schema
        # says integer, so anything else is a 400 (a larger one is capped at max_page_size).
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw != "" and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_size_query_param: ["A whole number from 1."]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


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
