"""A real Celery worker, on the test Redis and database, runs the heartbeat task."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from api.config import PROJECT_ROOT
from tests.support.processes import tunewave_env, wait_for
from workers.heartbeat import HEARTBEAT_KEY, HEARTBEAT_TTL_S, heartbeat


@pytest.fixture
def worker(redis: Redis, tmp_path: Path) -> Iterator[str]:
    """A worker subprocess (solo pool) consuming the test broker; yields its name."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                "-n",
                name,
            ],
            env=tunewave_env(),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # Send only to a consuming worker: a task queued earlier would sit in Redis for the
        # whole boot, where anything else flushing the test database could drop it.
        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{log_path.read_text()}")
            return f"{name} ready." in log_path.read_text()

        wait_for(ready, 60, "the worker to log that it is ready")
        yield name
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"worker ignored SIGTERM:\n{log_path.read_text()}") from None


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
