from __future__ import annotations

import ssl
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from redis.asyncio import Redis

from api.config import get_settings


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


@lru_cache
def get_redis() -> Redis:
    url = get_settings().require_redis_url()
    return Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_connect_timeout=5,
        **(redis_ssl_options(url) or {}),
    )


async def close_redis() -> None:
    if get_redis.cache_info().currsize:
        await get_redis().aclose()
    get_redis.cache_clear()
