"""Our Redis clients across a Redis restart: every pooled connection is dead afterwards, and
none of them may fail a command (each is replaced on first use, with backoff)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api.core.config import get_settings
from api.core.redis import new_redis
from tests.faults.harness import RedisServer


async def test_pooled_connections_survive_a_redis_restart(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        settings = get_settings().model_copy(update={"redis_url": server.url()})
        client = new_redis(settings)
        # Several connections in the pool at once.
        await asyncio.gather(*(client.blpop(["nothing"], timeout=0.2) for _ in range(6)))
        assert len(client.connection_pool._available_connections) >= 2
        server.kill()
        server.start()  # empty, and every pooled connection is now closed
        answers = await asyncio.gather(
            *(client.incr("after-restart") for _ in range(12)), return_exceptions=True
        )
        assert not [a for a in answers if isinstance(a, BaseException)], answers
        assert sorted(answers) == list(range(1, 13))  # type: ignore[type-var]
        await client.aclose()
    finally:
        server.stop()
