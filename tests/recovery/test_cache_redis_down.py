"""A cache whose Redis is away is a miss: Today and the account list still answer 200."""

import logging
import socket

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused, as to a stopped Redis."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cache_at(port: int, backend: str) -> dict:
    return {"default": {"BACKEND": backend, "LOCATION": f"redis://127.0.0.1:{port}/0"}}


@pytest.mark.parametrize("path", ["/", "/accounts/"])
def test_pages_answer_200_when_the_cache_redis_is_down(settings, client, alice, alice_contract, path, caplog) -> None:
    settings.CACHES = redis_cache_at(closed_port(), "csm.cache.ForgivingRedisCache")
    client.force_login(alice)
    with caplog.at_level(logging.WARNING, logger="csm.cache"):
        first = client.get(path)
        second = client.get(path)
    assert (first.status_code, second.status_code) == (200, 200)
    assert b"Acme" in first.content
    # Logged once for the outage, not once per cache call.
    cache_records = [r.message for r in caplog.records if r.name == "csm.cache"]
    assert cache_records.count(cache_records[0]) == 1
    assert "unreachable" in cache_records[0]


def test_django_redis_cache_alone_would_fail_the_page(settings, client, alice, alice_contract) -> None:
    """What the wrapper is for: the stock backend raises on a refused connection."""
    settings.CACHES = redis_cache_at(closed_port(), "django.core.cache.backends.redis.RedisCache")
    client.force_login(alice)
    client.raise_request_exception = False
    assert client.get("/").status_code == 500


def test_reads_are_misses_and_writes_are_dropped(settings) -> None:
    settings.CACHES = redis_cache_at(closed_port(), "csm.cache.ForgivingRedisCache")
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("k", lambda: "computed") == "computed"
    cache.set("k", "v")
    cache.set_many({"a": 1})
    cache.delete("k")
    assert cache.add("k", "v") is False
