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


# KEYS: counters. ARGV: window_s, then one limit per key. Counts the attempt on every key and
# answers the longest wait among the keys now over their limit (0: go ahead), in one step,
# so concurrent attempts never all see the counter before any of them counted.
_RESERVE = """
local wait = 0
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[1]) end
  if count > tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then ttl = 1 end
    if ttl > wait then wait = ttl end
  end
end
return wait
"""


async def reserve(redis: Redis, limits: dict[str, int], *, window_s: int) -> int:
    """Count one attempt against every key of ``limits`` ({key: limit}) at once, before the
    attempt is made; the seconds to wait when any key is over its limit (0 when none is)."""
    keys = list(limits)
    wait = await redis.eval(  # type: ignore[misc]
        _RESERVE, len(keys), *keys, window_s, *(limits[key] for key in keys)
    )
    return int(wait)


async def refund(redis: Redis, keys: list[str]) -> None:
    """Give back an attempt counted by ``reserve`` (one that turned out to be legitimate)."""
    async with redis.pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.decr(key)
        await pipe.execute()
