"""Rate limits in Redis, shared by every API process."""

from __future__ import annotations

from redis.asyncio import Redis

from api.exceptions import TooManyRequests


async def hit(redis: Redis, key: str, *, window_s: int) -> tuple[int, int]:
    """Count one event in a fixed window; return (count so far, seconds until the window ends)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_s, nx=True)
        pipe.ttl(key)
        count, _, ttl = await pipe.execute()
    return int(count), max(int(ttl), 1)


async def enforce(redis: Redis, key: str, *, limit: int, window_s: int, what: str) -> None:
    """Count one event and refuse it with 429 + Retry-After once the window's limit is passed."""
    count, retry_after_s = await hit(redis, key, window_s=window_s)
    if count > limit:
        raise TooManyRequests(
            f"too many {what}; try again in {retry_after_s} s", retry_after_s=retry_after_s
        )


async def blocked_for(redis: Redis, key: str, *, limit: int) -> int:
    """Seconds a key stays over ``limit`` (0 when it is not), without counting an event."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = await pipe.execute()
    if count is not None and int(count) >= limit:
        return max(int(ttl), 1)
    return 0
