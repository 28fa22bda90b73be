"""Fuzz the API from its own OpenAPI schema: no 5xx, and answers that match the schema.

The schema comes from drf-spectacular, so every endpoint registered on the router is
fuzzed, including those added after this file was written.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from csm.urls import router
from tests.factories import api_token

pytestmark = pytest.mark.django_db

SPEC = SchemaGenerator().get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(SPEC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_the_schema_names_every_route_of_the_router() -> None:
    assert SPEC["openapi"].startswith("3.")
    paths = set(SPEC["paths"])
    for prefix, _viewset, _basename in router.registry:
        assert any(path.startswith(f"/api/{prefix}/") for path in paths), f"/api/{prefix}/ missing from the schema"
    assert len(OPERATIONS) >= len(router.registry)


@pytest.mark.parametrize(
    "operation", OPERATIONS or [None], ids=[op.label for op in OPERATIONS] or ["no-operations-registered"]
)
def test_fuzzed_requests_get_no_server_error_and_answers_match_the_schema(operation, book) -> None:
    if operation is None:
        # Nothing to fuzz only because no viewset is registered yet.
        assert router.registry == []
        return
    token = api_token(book.users["alice"])
    app = get_wsgi_application()

    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case) -> None:
        case.call_and_validate(app=app, headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    # As Django's test client does: a request must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        fuzz()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
