import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_the_bulk_endpoint_has_its_own_rate_limit(api, alice, acme, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "anon": "10/hour", "ingest": "2/minute"},
    }
    cache.clear()
    client = api(alice)
    statuses = [client.post("/api/usage/bulk/", {"rows": []}, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # Reading is not throttled by the ingest budget.
    assert client.get("/api/usage/").status_code == 200
    cache.clear()
