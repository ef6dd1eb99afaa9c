"""Leases: one live run of a task at a time, and a dead run's work taken over at once.

Celery on Redis redelivers a task whose worker died (``acks_late``): a pool child killed
mid-task comes back at once (``task_reject_on_worker_lost``), a whole worker lost comes back
after the visibility timeout (``TUNEWAVE_CELERY_VISIBILITY_TIMEOUT_S``, 30 s). That timeout is
shorter than our long tasks on purpose (a lost worker's task should not wait an hour), so a
task still running when it passes is delivered a second time. A lease makes both cases safe:

- The lease is a Redis key naming its holder (task id, host, pid) with a short expiry
  (``TUNEWAVE_TASK_LEASE_TTL_S``, 30 s), renewed every third of it while the task runs. A dead
  holder stops renewing, so its lease is gone within that time whatever killed it.
- A run that finds the lease held checks the holder: on this host with its process gone, the
  lease is stale and taken over at once (a redelivery after a pool child was killed does not
  answer "busy"). Otherwise it watches the lease for a renewal period: renewed means a live
  run (a second delivery while the first still runs, or a different run): the newcomer
  answers "busy" and is acknowledged; expired means the holder died elsewhere: taken over.
- A run that completes records its task id as done for a day, so a delivery of a task that
  already completed (the visibility timeout passed while it ran) is acknowledged as a
  duplicate instead of running it again.
- A holder that finds its lease taken over (it stalled longer than the lease) stops its work
  (``LeaseLost``) rather than run in parallel with the new holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psutil
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LEASE_PREFIX = "tunewave:lease:"
DONE_PREFIX = "tunewave:task-done:"
DONE_TTL_S = 24 * 3600

# Replace the lease only if it still holds ``ARGV[1]`` (the value read): a compare-and-set.
_TAKE_OVER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""

# Renew (or release, with an empty value) only while the lease is still ours.
_RENEW = """
local raw = redis.call('get', KEYS[1])
if not raw then return 0 end
local ok, held = pcall(cjson.decode, raw)
if not ok or held['token'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('del', KEYS[1])
else
  redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"""


class LeaseLost(Exception):
    """Another run took the lease over (this one stalled past its expiry)."""


@dataclass(frozen=True, slots=True)
class Holder:
    token: str
    task_id: str
    host: str
    pid: int
    renewed_ms: int

    @classmethod
    def parse(cls, raw: str) -> Holder | None:
        try:
            data = json.loads(raw)
            return cls(
                str(data["token"]),
                str(data["task_id"]),
                str(data["host"]),
                int(data["pid"]),
                int(data["renewed_ms"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def process_is_gone(self) -> bool:
        """True when the holder ran on this host and its process no longer exists."""
        if self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            # Our own process: a previous run in it ended without releasing (killed by the
            # time limit) and nothing runs in parallel within one pool process.
            return True
        return not psutil.pid_exists(self.pid)


class TaskLease:
    def __init__(self, redis: Redis, name: str, *, ttl_s: float, task_id: str | None) -> None:
        self.redis = redis
        self.key = f"{LEASE_PREFIX}{name}"
        self.ttl_ms = max(int(ttl_s * 1000), 300)
        self.task_id = task_id or f"local-{uuid.uuid4().hex}"
        self.token = uuid.uuid4().hex
        self.took_over_from: Holder | None = None

    def _value(self) -> str:
        return json.dumps(
            {
                "token": self.token,
                "task_id": self.task_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "renewed_ms": time.time_ns() // 1_000_000,
            }
        )

    async def already_done(self) -> bool:
        return bool(await self.redis.exists(f"{DONE_PREFIX}{self.task_id}"))

    async def mark_done(self) -> None:
        await self.redis.set(f"{DONE_PREFIX}{self.task_id}", "1", ex=DONE_TTL_S)

    async def acquire(self) -> bool:
        """Take the lease: at once if free or stale, after watching it for a renewal period
        if its holder may be alive elsewhere. False when a live run holds it."""
        watched: Holder | None = None
        deadline = time.monotonic() + self.ttl_ms / 1000 + 1
        while True:
            if await self.redis.set(self.key, self._value(), nx=True, px=self.ttl_ms):
                return True
            found = await self.redis.get(self.key)
            if found is None:
                continue
            raw = found.decode() if isinstance(found, bytes) else str(found)
            holder = Holder.parse(raw)
            if holder is None or holder.process_is_gone():
                if await self.redis.eval(  # type: ignore[misc]
                    _TAKE_OVER, 1, self.key, raw, self._value(), self.ttl_ms
                ):
                    self.took_over_from = holder
                    logger.warning(
                        "lease %s taken over from a dead run (%s)",
                        self.key,
                        holder.task_id if holder else "unreadable",
                    )
                    return True
                continue
            if watched is not None and (
                holder.token != watched.token or holder.renewed_ms != watched.renewed_ms
            ):
                return False  # renewed, or a new holder: a live run
            watched = watched or holder
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(min(0.5, self.ttl_ms / 3000))

    async def renew(self) -> bool:
        return bool(
            await self.redis.eval(  # type: ignore[misc]
                _RENEW, 1, self.key, self.token, self._value(), self.ttl_ms
            )
        )

    async def release(self) -> None:
        with contextlib.suppress(RedisError):
            await self.redis.eval(_RENEW, 1, self.key, self.token, "", 0)  # type: ignore[misc]

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[None]:
        """Renew every third of the TTL while the block runs; a lost lease cancels the block
        and raises ``LeaseLost``."""
        work = asyncio.current_task()
        assert work is not None
        lost = False

        async def keep() -> None:
            nonlocal lost
            while True:
                await asyncio.sleep(self.ttl_ms / 3000)
                try:
                    if not await self.renew():
                        lost = True
                        logger.error("lease %s lost to another run; stopping", self.key)
                        work.cancel()
                        return
                except RedisError as exc:
                    # Transient: the next renewal may land before the lease expires.
                    logger.warning("lease %s not renewed: %s", self.key, exc)

        keeper = asyncio.create_task(keep(), name=f"lease {self.key}")
        try:
            yield
        except asyncio.CancelledError:
            if lost:
                work.uncancel()
                raise LeaseLost(self.key) from None
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper


@dataclass
class LeasedOutcome:
    status: str  # "ran", "busy", "duplicate"
    value: Any = None


async def run_leased(
    redis: Redis, name: str, task_id: str | None, ttl_s: float, work: Any
) -> LeasedOutcome:
    """Run ``work()`` (a coroutine function) holding the lease ``name``."""
    lease = TaskLease(redis, name, ttl_s=ttl_s, task_id=task_id)
    if task_id is not None and await lease.already_done():
        logger.info("task %s already completed; this delivery is a duplicate", task_id)
        return LeasedOutcome("duplicate")
    if not await lease.acquire():
        return LeasedOutcome("busy")
    try:
        async with lease.renewing():
            value = await work()
        if task_id is not None:
            await lease.mark_done()
        return LeasedOutcome("ran", value)
    finally:
        await lease.release()
