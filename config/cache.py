"""The cache is a convenience, never a dependency: with Redis down a request or a recompute goes on.

Progress percentages and cached projection baselines live in the cache. ``TolerantRedisCache``
is Django's Redis cache whose reads answer a miss and whose writes are skipped (logged once a
minute) while Redis cannot be reached, so ``/progress/`` and ``manage.py recompute`` never fail
on it (they did: the progress write was unconditional).
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_last_warning = 0.0


def _warn(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("Cache %s skipped: Redis unreachable (%s); going on without the cache.", operation, exc)


class TolerantRedisCache(RedisCache):
    """RedisCache minus the failures: a miss on read, nothing on write, while Redis is unreachable."""

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except (RedisError, OSError) as exc:
            _warn("read", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except (RedisError, OSError) as exc:
            _warn("read", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except (RedisError, OSError) as exc:
            _warn("read", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except (RedisError, OSError) as exc:
            _warn("write", exc)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except (RedisError, OSError) as exc:
            _warn("write", exc)
            return False

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except (RedisError, OSError) as exc:
            _warn("write", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except (RedisError, OSError) as exc:
            _warn("write", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except (RedisError, OSError) as exc:
            _warn("write", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except (RedisError, OSError) as exc:
            _warn("write", exc)

    def clear(self):
        try:
            return super().clear()
        except (RedisError, OSError) as exc:
            _warn("write", exc)
