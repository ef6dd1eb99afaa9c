from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.core.config import Settings, get_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")


def redis_ssl_options(url: str) -> dict[str, Any] | None:
    """TLS options for a ``rediss://`` URL (API, Celery and beat alike), or None for ``redis://``.

    Heroku Redis serves self-signed certificates and hands out ``rediss://`` URLs without
    ``ssl_cert_reqs``, which Celery refuses. Without an explicit choice we accept the
    certificate unverified (Heroku's documented setting); append ``?ssl_cert_reqs=required``
    to the URL to verify it.
    """
    parts = urlsplit(url)
    if parts.scheme != "rediss":
        return None
    requested = parse_qs(parts.query).get("ssl_cert_reqs", [""])[0].lower()
    levels = {
        "required": ssl.CERT_REQUIRED,
        "cert_required": ssl.CERT_REQUIRED,
        "optional": ssl.CERT_OPTIONAL,
        "cert_optional": ssl.CERT_OPTIONAL,
        "none": ssl.CERT_NONE,
        "cert_none": ssl.CERT_NONE,
    }
    return {"ssl_cert_reqs": levels.get(requested, ssl.CERT_NONE)}


def redis_client_options(settings: Settings, url: str) -> dict[str, Any]:
    """How every client of ours talks to Redis, which may come and go (a restart, a failover).

    A command that meets a broken or refused connection is retried ``redis_retries`` times
    with capped exponential backoff and jitter, each time on a fresh connection; a pooled
    connection idle for ``redis_health_check_interval_s`` is PINGed before use, so a
    connection Redis dropped while it sat in the pool is replaced instead of failing the
    command that drew it. The budget is short on purpose (well under a second): callers
    degrade (a per-process rate limit, local delivery, a fallback answer) rather than wait.
    """
    return {
        "decode_responses": True,
        "retry": Retry(
            ExponentialWithJitterBackoff(cap=settings.redis_retry_cap_s, base=0.02),
            settings.redis_retries,
        ),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        "health_check_interval": settings.redis_health_check_interval_s,
        "socket_connect_timeout": min(5.0, settings.redis_socket_timeout_s),
        "socket_timeout": settings.redis_socket_timeout_s,
        "socket_keepalive": True,
        **(redis_ssl_options(url) or {}),
    }


def new_redis(settings: Settings | None = None) -> Redis:
    """A new client (its own pool) with the options above."""
    settings = settings or get_settings()
    url = settings.require_redis_url()
    return Redis.from_url(url, **redis_client_options(settings, url))


_clients: dict[tuple[object, ...], Redis] = {}


def redis_for(settings: Settings) -> Redis:
    """The shared client (one pool per process) for ``settings``: the app keeps it on
    ``app.state`` (api/main.py), workers and the CLI reach it through :func:`get_redis`."""
    key = (
        settings.require_redis_url(),
        settings.redis_retries,
        settings.redis_retry_cap_s,
        settings.redis_health_check_interval_s,
        settings.redis_socket_timeout_s,
    )
    found = _clients.get(key)
    if found is None:
        found = _clients[key] = new_redis(settings)
    return found


def get_redis() -> Redis:
    """The process's client, from the process's settings (outside a request)."""
    return redis_for(get_settings())


async def close_redis() -> None:
    """Close every shared client of the process (the app's lifespan, tests)."""
    clients = list(_clients.values())
    _clients.clear()
    for client in clients:
        await client.aclose()


class _OfflinePipeline:
    """A pipeline of ``OfflineRedis``: commands are accepted and ``execute`` answers None."""

    def __init__(self) -> None:
        self._queued = 0

    async def __aenter__(self) -> _OfflinePipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        def queue(*args: Any, **kwargs: Any) -> _OfflinePipeline:
            self._queued += 1
            return self

        return queue

    async def execute(self, *args: Any, **kwargs: Any) -> list[None]:
        queued, self._queued = self._queued, 0
        return [None] * queued


class OfflineRedis:
    """Stands in for Redis where it is only a cache, while Redis is unreachable: every read
    misses (None, or a list of None for ``mget``/``hmget``) and every write is dropped, so a
    caller computes its answer from PostgreSQL instead of failing."""

    async def mget(self, keys: Any, *more: Any) -> list[None]:
        count = (len(keys) if isinstance(keys, list | tuple) else 1) + len(more)
        return [None] * count

    async def hmget(self, name: str, keys: Any, *more: Any) -> list[None]:
        count = (len(keys) if isinstance(keys, list | tuple) else 1) + len(more)
        return [None] * count

    def pipeline(self, *args: Any, **kwargs: Any) -> _OfflinePipeline:
        return _OfflinePipeline()

    def register_script(self, script: str) -> Any:
        """A script handle (registering is synchronous in redis-py) whose runs miss."""

        async def run(*args: Any, **kwargs: Any) -> None:
            return None

        return run

    def __getattr__(self, name: str) -> Any:
        async def miss(*args: Any, **kwargs: Any) -> None:
            return None

        return miss


async def with_cache_fallback(redis: Redis, call: Callable[[Redis], Awaitable[T]]) -> T:
    """``call(redis)``; when Redis fails underneath, ``call`` again with every cache missing
    (``OfflineRedis``), so a read that only caches in Redis still answers."""
    try:
        return await call(redis)
    except RedisError as exc:
        logger.warning("answering without Redis (%s)", type(exc).__name__)
        return await call(cast(Redis, OfflineRedis()))
