"""A Redis cache that degrades to no cache while its Redis cannot be reached.

Django's ``RedisCache`` raises on a refused or timed-out connection, so ``{% cache %}`` and
``cache.get`` turn a Redis restart into a 500 on every page. The cache only saves work: here
a read that cannot reach Redis is a miss, a write is dropped, and for a few seconds after a
failure no call tries Redis at all, so a page with many fragments does not wait on each one.
The outage is logged once when it starts and once when Redis answers again.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER = 5.0  # seconds without trying Redis after a failure


class ForgivingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        options = params.setdefault("OPTIONS", {})
        # A page must not wait seconds on a Redis that is away: connect and read quickly.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, params)
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def _guard(self, call: Callable[[], Any], fallback: Any) -> Any:
        if self._down and time.monotonic() < self._down_until:
            return fallback
        try:
            result = call()
        except UNREACHABLE as exc:
            with self._lock:
                if not self._down:
                    logger.warning("Cache Redis unreachable, serving without a cache: %r", exc)
                self._down, self._down_until = True, time.monotonic() + RETRY_AFTER
            return fallback
        if self._down:
            with self._lock:
                if self._down:
                    logger.warning("Cache Redis reachable again")
                self._down = False
        return result

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guard(lambda: super(ForgivingRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        return self._guard(lambda: super(ForgivingRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(ForgivingRedisCache, self).has_key(key, version), False)

    def set(self, *args: Any, **kwargs: Any) -> None:
        return self._guard(lambda: super(ForgivingRedisCache, self).set(*args, **kwargs), None)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        return self._guard(lambda: super(ForgivingRedisCache, self).add(*args, **kwargs), False)

    def set_many(self, *args: Any, **kwargs: Any) -> list:
        return self._guard(lambda: super(ForgivingRedisCache, self).set_many(*args, **kwargs), [])

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        return self._guard(lambda: super(ForgivingRedisCache, self).touch(*args, **kwargs), False)

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        return self._guard(lambda: super(ForgivingRedisCache, self).delete(*args, **kwargs), False)

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        return self._guard(lambda: super(ForgivingRedisCache, self).delete_many(*args, **kwargs), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A counter (e.g. a rate limit) that cannot be read counts from zero.
        return self._guard(lambda: super(ForgivingRedisCache, self).incr(key, delta, version), delta)

    def clear(self) -> None:
        return self._guard(lambda: super(ForgivingRedisCache, self).clear(), None)
