"""The OpenAPI schema's error answers, documented once for every operation (docs/api.md).

drf-spectacular documents the success answer of each operation; this AutoSchema adds the 4xx
answers the API's plumbing gives, so a client (and schemathesis, tests/security/test_api_contract.py)
knows every status an operation can return:

- 400: the body or a query parameter is malformed: field errors (``{"field": ["message"]}``,
  nested for nested objects) or ``{"detail": ...}`` for a body that is not JSON;
- 401: no or a wrong token / session; 403: not allowed (a read-only user writing, a CSRF failure);
- 404: a row the caller does not see, or a page past the end of a list;
  a change that fits the schema but not the data (a row it names that the caller cannot use, a
  rule of the service such as an end before the start) is a 400 with field errors too, so pages
  and the API answer the same bad input alike;
- 415: a request body that is not ``application/json``; 429: throttled.

Text (bodies and query parameters) is documented without NUL characters, which the server
refuses with a 400. Query parameters are documented with ``allowEmptyValue``: an empty one (``?segment=``) is the
same as leaving it out, as django-filter and DRF read it.

An operation documents its own extra answers (e.g. 413 for ``/api/usage/bulk/``) with
``extend_schema(responses=...)``; those are kept.
"""

from decimal import Decimal
from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

DETAIL = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})


def _field_errors_schema() -> dict[str, Any]:
    # An object of field errors (each a list of messages, or nested errors for a nested object or
    # a list's rows), {"detail": "..."} for a body that is not JSON, or a list of messages.
    return {
        "description": 'Field errors: {"field": ["message", ...]}, nested for nested objects '
        '(rows of a list are keyed by their index), {"non_field_errors": [...]} for a rule of the data '
        '(e.g. a closed renewal), or {"detail": "..."} for a body that is not JSON.',
        "anyOf": [
            {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}]
                },
            },
            {"type": "array", "items": {"type": "string"}},
        ],
    }


ERRORS: dict[str, tuple[str, object]] = {
    "401": ("Not signed in, or the token is wrong, expired or revoked.", DETAIL),
    "403": ("Signed in but not allowed (a read-only user writing, a missing CSRF token).", DETAIL),
    "404": ("No such row among those the caller may see, or a page past the end.", DETAIL),
    "415": ("The request body is not application/json.", DETAIL),
    "429": ("Too many requests (or too many failed tokens from this address); retry later.", DETAIL),
}


class AutoSchema(openapi.AutoSchema):
    def _has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self._get_request_body() is not None

    def _takes_query(self) -> bool:
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())

    def _get_response_bodies(self, direction: openapi.Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = ["401", "403", "429"]
        has_body = self._has_body()
        # A change can also be refused by its service (a ValidationError is a 400 with field errors).
        changes = self.method not in ("GET", "HEAD", "OPTIONS")
        if has_body or self._takes_query() or changes:
            codes.append("400")
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        if has_body:
            codes.append("415")
        for code in codes:
            if code in responses:
                continue
            if code == "400":
                responses[code] = {
                    "description": "The body or a query parameter is not valid, or the data refuses the change.",
                    "content": {"application/json": {"schema": _field_errors_schema()}},
                }
                continue
            description, serializer = ERRORS[code]
            responses[code] = self._get_response_for_code(
                OpenApiResponse(serializer, description=description), code, direction=direction
            )
        return dict(sorted(responses.items()))

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
            # ordering reads any text (an unknown ordering is ignored); search (DRF's SearchFilter)
            # and the filters refuse a NUL.
            if isinstance(parameter.get("schema"), dict) and parameter.get("name") != "ordering":
                without_nul(parameter["schema"])
        return parameters

    def _map_serializer_field(self, field: Any, direction: openapi.Direction, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(schema, dict):
            without_nul(schema)
            # A related field reads "" as null (DRF); the schema says so instead of minLength 1.
            if isinstance(field, serializers.RelatedField) and field.allow_null:
                schema.pop("minLength", None)
            if isinstance(field, serializers.DecimalField):
                schema.update(decimal_schema(field))
                bounds = getattr(field, "schema_also_number", None)
                if bounds is not None:
                    # A service that also reads a JSON number (bulk usage rows): either form, documented.
                    string = {key: schema.pop(key) for key in ("type", "format", "pattern") if key in schema}
                    schema["oneOf"] = [string, {"type": "number", "minimum": bounds[0], "maximum": bounds[1]}]
        return schema


# Text the database stores or looks up cannot hold a NUL (csm/input_guards.py): a 400, documented.
NO_NUL = r"^[^\x00]*$"


def without_nul(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and not ({"pattern", "format", "enum"} & set(schema)):
        schema["pattern"] = NO_NUL


def decimal_schema(field: serializers.DecimalField) -> dict[str, Any]:
    """A decimal as a string the field really accepts: digits, no sign when the minimum is 0, ""
    only when it may be null (drf-spectacular's own pattern admits "" and "-" everywhere)."""
    whole = (field.max_digits or 20) - (field.decimal_places or 0)
    places = field.decimal_places or 0
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    fraction = rf"(?:\.\d{{1,{places}}})?" if places else ""
    number = getattr(field, "schema_number", None) or rf"{sign}\d{{1,{whole}}}{fraction}"
    if field.min_value is not None and field.min_value > 0 and not hasattr(field, "schema_number"):
        if field.min_value != Decimal(1).scaleb(-places):
            raise ValueError(f"{field!r}: document a minimum other than the smallest step with schema_number")
        # Above zero (e.g. 0.01 and up): a whole part from 1, or 0 and a fraction that ends in 1-9.
        number = rf"[1-9]\d{{0,{whole - 1}}}{fraction}"
        if places:
            number = rf"(?:{number}|0\.\d{{0,{places - 1}}}[1-9])"
    # DRF reads "" as null for a field that may be null.
    pattern = rf"^(?:{number})?$" if field.allow_null else rf"^{number}$"
    return {"type": "string", "format": "decimal", "pattern": pattern}
