"""A real Celery worker, on the test Redis and database, runs the heartbeat task."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.support.workers import celery_worker
from workers.heartbeat import HEARTBEAT_KEY, HEARTBEAT_TTL_S, heartbeat


@pytest.fixture
def worker(redis: Redis, tmp_path: Path) -> Iterator[str]:
    """A worker subprocess (solo pool) consuming the test broker; yields its name.

    Tasks are sent only once it consumes: a task queued earlier would sit in Redis for the
    whole boot, where anything else flushing the test database could drop it.
    """
    with celery_worker(tmp_path) as running:
        yield running.name


async def test_a_worker_runs_the_heartbeat_and_records_it(redis: Redis, worker: str) -> None:
    before = datetime.now(UTC)
    heartbeat.delay()

    deadline = time.monotonic() + 60
    raw = await redis.get(HEARTBEAT_KEY)
    while raw is None:
        assert time.monotonic() < deadline, "no heartbeat within 60s"
        await asyncio.sleep(0.2)
        raw = await redis.get(HEARTBEAT_KEY)

    beat = json.loads(raw)
    assert beat["worker"] == worker
    assert beat["database"] == "ok"
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(beat["at"]) <= datetime.now(UTC)
    assert 0 < await redis.ttl(HEARTBEAT_KEY) <= HEARTBEAT_TTL_S
