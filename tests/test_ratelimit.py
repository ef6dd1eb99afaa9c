"""Fixed-window counting in Redis (api/core/ratelimit.py), against the real server."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from api.core import ratelimit
from api.core.exceptions import TooManyRequests


async def test_a_window_counts_events_and_ends_with_its_first_events_expiry(redis: Redis) -> None:
    key = "tunewave:test-rate:window"
    assert await ratelimit.hit(redis, key, window_s=30) == (1, 30)
    count, left = await ratelimit.hit(redis, key, window_s=30)
    assert count == 2
    assert 29 <= left <= 30
    # Later events never push the window's end out.
    await redis.expire(key, 5)
    assert (await ratelimit.hit(redis, key, window_s=30))[1] <= 5
    # A key that lost its expiry (someone persisted it) gets the window's again.
    await redis.persist(key)
    assert await ratelimit.hit(redis, key, window_s=30) == (4, 30)
    assert 0 < await redis.ttl(key) <= 30
    # Once the window has passed, counting starts over.
    await redis.delete(key)
    assert await ratelimit.hit(redis, key, window_s=7) == (1, 7)


async def test_enforce_refuses_past_the_limit_with_the_seconds_left(redis: Redis) -> None:
    key = "tunewave:test-rate:enforce"
    for _ in range(3):
        await ratelimit.enforce(redis, key, limit=3, window_s=20, what="things")
    with pytest.raises(TooManyRequests) as refused:
        await ratelimit.enforce(redis, key, limit=3, window_s=20, what="things")
    assert 19 <= refused.value.retry_after_s <= 20
    assert "too many things" in refused.value.detail
