"""Task leases (api/core/lease.py) against the real Redis: taken over from a dead run at once,
refused while a live run renews them, expired when nobody renews, and a completed task's
second delivery recognised."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
from redis.asyncio import Redis

from api.core.lease import LEASE_PREFIX, LeaseLost, TaskLease, run_leased


def _holder(pid: int, host: str, renewed_ms: int, task_id: str = "older") -> str:
    return json.dumps(
        {"token": "theirs", "task_id": task_id, "host": host, "pid": pid, "renewed_ms": renewed_ms}
    )


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_a_free_lease_is_taken_renewed_and_released(redis: Redis) -> None:
    lease = TaskLease(redis, "t", ttl_s=5, task_id="task-1")
    assert await lease.acquire()
    assert await lease.renew()
    assert 0 < await redis.pttl(f"{LEASE_PREFIX}t") <= 5000
    await lease.release()
    assert await redis.get(f"{LEASE_PREFIX}t") is None


async def test_a_lease_whose_holder_died_on_this_host_is_taken_over_at_once(
    redis: Redis,
) -> None:
    import socket

    now = time.time_ns() // 1_000_000
    await redis.set(f"{LEASE_PREFIX}t", _holder(_dead_pid(), socket.gethostname(), now), px=60_000)
    lease = TaskLease(redis, "t", ttl_s=60, task_id="task-1")
    started = time.monotonic()
    assert await lease.acquire()
    assert time.monotonic() - started < 5
    assert lease.took_over_from is not None
    held = json.loads(await redis.get(f"{LEASE_PREFIX}t"))  # type: ignore[arg-type]
    assert held["task_id"] == "task-1"


async def test_a_lease_renewed_by_a_live_run_elsewhere_is_busy(redis: Redis) -> None:
    key = f"{LEASE_PREFIX}t"

    async def live_holder() -> None:
        while True:
            now = time.time_ns() // 1_000_000
            await redis.set(key, _holder(1, "another-host", now), px=1200)
            await asyncio.sleep(0.2)

    holder = asyncio.create_task(live_holder())
    try:
        await asyncio.sleep(0.05)
        assert not await TaskLease(redis, "t", ttl_s=1.2, task_id="task-2").acquire()
    finally:
        holder.cancel()


async def test_a_lease_nobody_renews_expires_and_is_taken(redis: Redis) -> None:
    now = time.time_ns() // 1_000_000
    await redis.set(f"{LEASE_PREFIX}t", _holder(1, "another-host", now), px=800)
    lease = TaskLease(redis, "t", ttl_s=0.8, task_id="task-3")
    assert await lease.acquire()
    assert lease.took_over_from is None  # it expired; nothing to take over


async def test_a_completed_task_delivered_again_is_a_duplicate(redis: Redis) -> None:
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        return runs

    first = await run_leased(redis, "t", "task-4", 5, work)
    again = await run_leased(redis, "t", "task-4", 5, work)
    other = await run_leased(redis, "t", "task-5", 5, work)
    assert (first.status, first.value) == ("ran", 1)
    assert again.status == "duplicate"
    assert (other.status, other.value) == ("ran", 2)
    assert runs == 2


async def test_a_run_whose_lease_was_taken_over_stops(redis: Redis) -> None:
    async def work() -> None:
        # Somebody took the lease while we were "stalled".
        await redis.set(f"{LEASE_PREFIX}t", _holder(1, "another-host", 0), px=10_000)
        await asyncio.sleep(10)

    with pytest.raises(LeaseLost):
        await run_leased(redis, "t", "task-6", 0.6, work)
    # The new holder keeps its lease.
    assert json.loads(await redis.get(f"{LEASE_PREFIX}t"))["token"] == "theirs"  # type: ignore[arg-type]
