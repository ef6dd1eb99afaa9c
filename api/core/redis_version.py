"""The oldest Redis server TuneWave works with, declared here and nowhere else.

TuneWave uses commands that older servers reject with an error at run time, not at
connect time (``ZADD ... GT`` in presence is Redis 6.2; ``EXPIRE ... NX`` in the rate
limiter, 7.0, was one until it became a script), so an old server looks healthy until the
first chat message answers 500. Every process therefore checks the server's version when it
starts (``tunewave run``, the API's lifespan, the Celery worker) and ``/readyz`` reports a
server that is too old; each names the version found and the one needed.

Valkey reports the Redis version it is compatible with in ``redis_version`` (Valkey 9.1
says 7.2.4) and its own in ``valkey_version``; the comparison uses ``redis_version``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# 7.0: the oldest server the suite runs against (the second pytest pass, on Debian 12's
# Redis); ZADD ... GT (presence) alone would need 6.2, which nothing here tests.
MIN_REDIS_VERSION: tuple[int, int, int] = (7, 0, 0)


class RedisVersionError(RuntimeError):
    """The Redis server is older than MIN_REDIS_VERSION."""


def format_version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def parse_version(text: str) -> tuple[int, int, int]:
    """``"7.2.4"`` → ``(7, 2, 4)``; missing parts count as 0 (``"7"`` → ``(7, 0, 0)``)."""
    match = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\S*\s*", text)
    if match is None:
        raise ValueError(f"not a Redis version: {text!r}")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return major, minor, patch


def describe_server(info: Mapping[str, Any]) -> str:
    """How a server names itself, from its ``INFO server``: ``Redis 7.0.15`` or
    ``Valkey 9.1.2 (Redis 7.2.4 compatible)``."""
    redis_version = str(info.get("redis_version", "unknown"))
    valkey_version = info.get("valkey_version")
    if valkey_version:
        return f"Valkey {valkey_version} (Redis {redis_version} compatible)"
    return f"Redis {redis_version}"


def version_problem(info: Mapping[str, Any], where: str = "Redis") -> str | None:
    """None when the server is new enough; otherwise a sentence naming found and needed."""
    needed = format_version(MIN_REDIS_VERSION)
    try:
        found = parse_version(str(info["redis_version"]))
    except (KeyError, ValueError):
        return f"{where} did not report its version; TuneWave needs Redis {needed} or newer"
    if found >= MIN_REDIS_VERSION:
        return None
    return (
        f"{where} is {describe_server(info)}; TuneWave needs Redis {needed} or newer "
        "(upgrade the server, or unset REDIS_URL to use the embedded one)"
    )


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # an unusual URL: say less rather than leak it
        return "the Redis server"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_redis_version_sync(url: str) -> str:
    """Connect to ``url`` and raise RedisVersionError if its server is too old; return its
    description. Connection errors propagate (the caller decides whether down is fatal)."""
    import redis

    from api.core.redis import redis_ssl_options

    client = redis.Redis.from_url(
        url, socket_connect_timeout=5, socket_timeout=5, **(redis_ssl_options(url) or {})
    )
    try:
        info = client.info("server")
    finally:
        client.close()
    problem = version_problem(info, f"Redis at {redacted(url)}")
    if problem is not None:
        raise RedisVersionError(problem)
    return describe_server(info)


async def check_redis_version(client: Any, where: str = "Redis") -> str:
    """The same check on an open ``redis.asyncio`` client."""
    info = await client.info("server")
    problem = version_problem(info, where)
    if problem is not None:
        raise RedisVersionError(problem)
    return describe_server(info)


async def refuse_old_redis(client: Any) -> None:
    """At a process's start: raise RedisVersionError for a too-old server. A server that does
    not answer yet is no reason to refuse starting (``/readyz`` reports it, and it is checked
    again there once it answers)."""
    import logging

    from redis.exceptions import RedisError

    try:
        await check_redis_version(client)
    except RedisError as exc:
        logging.getLogger(__name__).warning(
            "Redis version not checked at startup: the server does not answer",
            extra={"error": repr(exc)},
        )
