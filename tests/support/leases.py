"""A lease held by another process, as a running training in a worker holds it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

from api.core.config import PROJECT_ROOT

# Takes the lease, says so, renews it (api/core/lease.py) until its stdin closes, then releases it.
_HOLDER = """
import asyncio, sys
from redis.asyncio import Redis
from api.core.lease import TaskLease

async def main(url, name, ttl_s):
    redis = Redis.from_url(url)
    lease = TaskLease(redis, name, ttl_s=float(ttl_s), task_id=None)
    assert await lease.acquire()
    print("held", flush=True)
    async with lease.renewing():
        await asyncio.to_thread(sys.stdin.read)
    await lease.release()
    await redis.aclose()

asyncio.run(main(*sys.argv[1:]))
"""


@contextlib.contextmanager
def lease_held_elsewhere(redis_url: str, name: str, ttl_s: float) -> Iterator[None]:
    """Hold the lease ``name`` from another, live process for the duration of the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, redis_url, name, str(ttl_s)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held", "the holder did not take the lease"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        try:
            holder.wait(10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
