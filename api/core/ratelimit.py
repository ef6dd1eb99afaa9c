"""Rate limits in Redis, shared by every API process.

While Redis is unreachable, ``enforce`` counts in this process instead (``LocalWindows``):
each process then allows the limit on its own, a looser limit for a few seconds rather than
refusing everything (or a 500) until Redis returns.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.core.exceptions import TooManyRequests

logger = logging.getLogger(__name__)


class LocalWindows:
    """Fixed windows counted in this process: the fallback while Redis is unreachable."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, *, window_s: int) -> tuple[int, int]:
        now = time.monotonic()
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            if len(self._windows) >= self.max_keys:
                self._prune(now)
            ends, count = now + window_s, 0
        count += 1
        self._windows[key] = (ends, count)
        return count, max(int(ends - now + 0.999), 1)

    def _prune(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        if len(self._windows) >= self.max_keys:
            self._windows.clear()


local_windows = LocalWindows()


# Count one event; a key without an expiry (a new window) gets the window's. One command
# instead of MULTI, INCR, EXPIRE NX, TTL and EXEC: a rate limit is on every chat post.
_HIT = """
local count = redis.call('incr', KEYS[1])
local ttl = redis.call('ttl', KEYS[1])
if ttl < 0 then
  redis.call('expire', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


async def hit(redis: Redis, key: str, *, window_s: int) -> tuple[int, int]:
    """Count one event in a fixed window; return (count so far, seconds until the window ends)."""
    count, ttl = await redis.eval(_HIT, 1, key, window_s)  # type: ignore[misc]
    return int(count), max(int(ttl), 1)


async def enforce(redis: Redis, key: str, *, limit: int, window_s: int, what: str) -> None:
    """Count one event and refuse it with 429 + Retry-After once the window's limit is passed.

    Counted in Redis; in this process alone while Redis does not answer (never a 500).
    """
    try:
        count, retry_after_s = await hit(redis, key, window_s=window_s)
    except RedisError as exc:
        logger.warning("rate limit counted locally: Redis unreachable (%s)", type(exc).__name__)
        count, retry_after_s = local_windows.hit(key, window_s=window_s)
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
