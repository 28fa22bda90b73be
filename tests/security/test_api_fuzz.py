"""Fuzz the API from its own OpenAPI schema with every schemathesis check (docs/security.md).

The schema comes from drf-spectacular, so every endpoint registered on the router is fuzzed,
including those added after this file was written. Each operation gets schema-valid requests
(which it must accept: positive_data_acceptance) and schema-invalid ones (which it must refuse:
negative_data_rejection), and every answer goes through schemathesis' full check set: no 5xx,
documented status codes, content types, headers and bodies, unsupported methods and the Allow
header, a missing token refused (ignored_auth), and so on.

``schemathesis.toml`` (repo root) is the one configuration, for this test and for a CLI run: it
lists the operations where a documented 400 is a rule of the data the schema cannot express.
"""

from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from csm.urls import router
from tests.factories import api_token

pytestmark = pytest.mark.django_db

CONFIG = SchemathesisConfig.from_path(Path(__file__).resolve().parents[2] / "schemathesis.toml")
SPEC = SchemaGenerator().get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(SPEC, config=CONFIG)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
MAX_EXAMPLES = 10


def every_check_name() -> set[str]:
    load_all_checks()
    return {check.__name__ for check in CHECKS.get_all() if callable(check) and not isinstance(check, type)}


def accepted_statuses(operation) -> list[str]:
    """What positive_data_acceptance takes as accepting a schema-valid request to ``operation``."""
    config = SCHEMA.config.checks_config_for(operation=operation, phase="fuzzing")
    return config.positive_data_acceptance.expected_statuses


def test_the_schema_names_every_route_of_the_router() -> None:
    assert SPEC["openapi"].startswith("3.")
    paths = set(SPEC["paths"])
    for prefix, _viewset, _basename in router.registry:
        assert any(path.startswith(f"/api/{prefix}/") for path in paths), f"/api/{prefix}/ missing from the schema"
    assert len(OPERATIONS) >= len(router.registry)


def test_every_check_is_on_for_every_operation() -> None:
    names = every_check_name()
    # Every check schemathesis ships is on. A few act only on cases of other phases (undeclared
    # methods and missing headers: coverage; use after free: stateful), which the CLI run adds.
    assert {"not_a_server_error", "positive_data_acceptance", "negative_data_rejection", "ignored_auth"} <= names
    for operation in OPERATIONS:
        config = SCHEMA.config.checks_config_for(operation=operation, phase="fuzzing")
        off = {name for name in names if not config.get_by_name(name=name).enabled}
        assert off == set(), f"{operation.label}: {off} disabled"


def test_a_documented_400_counts_as_accepted_only_where_the_config_says_so() -> None:
    """schemathesis.toml allows a 400 as an answer to a schema-valid request on named operations only."""
    allowed = {operation.label for operation in OPERATIONS if "400" in accepted_statuses(operation)}
    labels = {operation.label for operation in OPERATIONS}
    assert allowed <= labels
    # No read is excused: a GET with schema-valid filters must answer 200 (or 404 for an id).
    assert not {label for label in allowed if label.startswith("GET ")}
    # And each excused operation documents the 400 with its field-error body.
    for operation in OPERATIONS:
        if operation.label in allowed:
            response = SPEC["paths"][operation.path][operation.method.lower()]["responses"]["400"]
            assert "anyOf" in response["content"]["application/json"]["schema"], operation.label


@pytest.fixture
def wsgi_app():
    """The WSGI app, called in-process; a request must not close the test's database connection
    (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    SCHEMA.app = get_wsgi_application()
    try:
        yield SCHEMA.app
    finally:
        SCHEMA.app = None
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize(
    "operation", OPERATIONS or [None], ids=[op.label for op in OPERATIONS] or ["no-operations-registered"]
)
@pytest.mark.usefixtures("wsgi_app")
def test_fuzzed_requests_pass_every_check(operation, book) -> None:
    if operation is None:
        # Nothing to fuzz only because no viewset is registered yet.
        assert router.registry == []
        return
    headers = {"Authorization": f"Token {api_token(book.users['alice'])}"}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case) -> None:
            # checks=None: every check the configuration enables, i.e. all of them.
            case.call_and_validate(app=SCHEMA.app, headers=headers)

        fuzz()
