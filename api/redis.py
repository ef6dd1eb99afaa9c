from __future__ import annotations

from functools import lru_cache

from redis.asyncio import Redis

from api.config import get_settings


@lru_cache
def get_redis() -> Redis:
    settings = get_settings()
    return Redis.from_url(
        settings.require_redis_url(),
        decode_responses=True,
        health_check_interval=30,
        socket_connect_timeout=5,
    )


async def close_redis() -> None:
    if get_redis.cache_info().currsize:
        await get_redis().aclose()
    get_redis.cache_clear()
