"""What the API does when Redis does not answer (a closed port stands in for a Redis that is
down): the chat rate limit counts per process, cache-only reads answer without Redis, and the
clients retry with a short budget."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from api.core import ratelimit
from api.core.config import get_settings
from api.core.exceptions import TooManyRequests
from api.core.redis import OfflineRedis, new_redis, redis_client_options, with_cache_fallback
from tunewave.embedded import free_tcp_port


def unreachable_redis() -> Redis:
    port = free_tcp_port()  # nothing listens there
    settings = get_settings().model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    return new_redis(settings)


async def test_the_rate_limit_counts_in_the_process_while_redis_is_down() -> None:
    redis = unreachable_redis()
    key = f"test:rate:{time.monotonic_ns()}"
    for _ in range(3):
        await ratelimit.enforce(redis, key, limit=3, window_s=10, what="messages")
    with pytest.raises(TooManyRequests) as refused:
        await ratelimit.enforce(redis, key, limit=3, window_s=10, what="messages")
    assert 1 <= refused.value.retry_after_s <= 10
    await redis.aclose()


def test_local_windows_restart_after_the_window() -> None:
    windows = ratelimit.LocalWindows()
    assert windows.hit("k", window_s=1)[0] == 1
    assert windows.hit("k", window_s=1)[0] == 2
    windows._windows["k"] = (time.monotonic() - 0.1, 2)  # the window ended
    assert windows.hit("k", window_s=1)[0] == 1


async def test_a_cache_only_read_answers_without_redis() -> None:
    redis = unreachable_redis()

    async def read(client: Redis) -> str:
        cached = await client.get("answer")
        if cached is not None:
            return str(cached)
        async with client.pipeline() as pipe:
            pipe.set("answer", "computed")
            await pipe.execute()
        assert await client.mget(["a", "b"]) == [None, None]
        return "computed"

    started = time.monotonic()
    assert await with_cache_fallback(redis, read) == "computed"
    # Retries are short: a caller degrades instead of waiting for Redis.
    assert time.monotonic() - started < 5
    assert await read(OfflineRedis()) == "computed"  # type: ignore[arg-type]
    await redis.aclose()


def test_clients_retry_with_backoff_and_check_idle_connections() -> None:
    settings = get_settings()
    options = redis_client_options(settings, "redis://127.0.0.1:6379/0")
    assert options["retry"].get_retries() == settings.redis_retries
    assert options["health_check_interval"] == settings.redis_health_check_interval_s
    assert options["socket_timeout"] == settings.redis_socket_timeout_s


async def test_the_offline_stand_in_runs_scripts_as_misses() -> None:
    """Presence registers Lua scripts on whatever client it gets: offline, a script's run
    misses like every read (and registering leaves no coroutine behind)."""
    offline = OfflineRedis()
    script = offline.register_script("return 1")
    assert await script(keys=["k"], args=[1]) is None
