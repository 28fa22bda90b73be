"""Query filters that read exactly what the schema documents (docs/api.md).

- A filter by a related row takes its id, a whole number from 1: an id nobody has, or one of
  another book, matches nothing (an empty page), as a name filter does; it never answers 400
  "Select a valid choice", which told apart ids that exist from ids that do not.
- A yes/no filter takes ``true`` or ``false`` (``1``/``0``, ``True``/``False``); anything else is
  a 400, where django-filter read it as "no filter".
- An empty parameter (``?account=``) is the same as leaving it out (``allowEmptyValue``).

``FilterSet`` is the base of every FilterSet in the apps, and ``FilterBackend`` builds the
ones a viewset declares with ``filterset_fields`` from it.
"""

from typing import Any

import django_filters
from django import forms
from django.db import models
from django_filters import rest_framework
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1
TRUE = ("true", "True", "1")
FALSE = ("false", "False", "0")


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 32767})
class SmallIntegerFilter(django_filters.NumberFilter):
    """A whole number of a small integer column (days before an end, say): 0.5 is refused, as documented."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 32767)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


FILTER_DEFAULTS = {
    **rest_framework.FilterSet.FILTER_DEFAULTS,
    models.BooleanField: {"filter_class": BooleanFilter},
    models.ForeignKey: {"filter_class": IdFilter},
    models.OneToOneField: {"filter_class": IdFilter},
}


class FilterSet(rest_framework.FilterSet):
    FILTER_DEFAULTS = FILTER_DEFAULTS


class FilterBackend(rest_framework.DjangoFilterBackend):
    filterset_base = FilterSet
