"""Guards that turn hostile input into a 400 with a field error instead of a 500 (docs/security.md).

- JSON nested deeper than ``MAX_JSON_DEPTH`` is refused by the parser (Python's decoder would
  raise RecursionError at about 1,000 levels, and anything that walks the data later might too).
- NUL characters cannot be stored in PostgreSQL text or jsonb: names looked up in the database
  and payloads kept as received are checked first.
- PostgreSQL accepts UTC offsets up to ±15:59 only; a datetime filter with a wider one is refused.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import IO, Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
NUL_MESSAGE = "Null characters are not allowed."
DECIMAL_MESSAGE = 'A decimal string such as "1200.00" is required.'


def json_depth_exceeds(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists/dicts deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def contains_nul(value: object) -> bool:
    """Whether any string (key or value) in the parsed JSON holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        return data


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's SlugRelatedField, answering a NUL in the name as a field error before any query."""

    def to_internal_value(self, data: object) -> object:
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(NUL_MESSAGE)
        return super().to_internal_value(data)


class DecimalField(serializers.DecimalField):
    """DRF's DecimalField, whose error says what the schema documents: a decimal string."""

    default_error_messages = {**serializers.DecimalField.default_error_messages, "invalid": DECIMAL_MESSAGE}


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def clean(self, value: object) -> object:
        parsed = super().clean(value)
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise DjangoValidationError("The UTC offset must be between -15:59 and +15:59.")
        return parsed


@extend_schema_field({"type": "string", "format": "date-time", "pattern": r"(?:[Zz]|[+-](?:0\d|1[0-5]):?[0-5]\d)$"})
class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


def reject_nul(text: str) -> str:
    """For forms: the same NUL check Django's CharField has, for text read from an upload."""
    if "\x00" in text:
        raise forms.ValidationError(NUL_MESSAGE)
    return text
