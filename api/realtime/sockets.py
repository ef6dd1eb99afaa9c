"""How many live sockets each user holds, across rooms and API processes (a cap per user).

Per user, a sorted set of their sockets scored by when the slot expires. Claiming drops the
expired slots, counts the rest and adds the new one only under the cap, in one Lua script,
so two handshakes on two processes cannot both take the last slot. While the socket is open,
its process pushes the expiry forward (a timer per socket, every third of the TTL, no task
in between); a killed process stops doing so and its slots lapse after the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

_PREFIX = "tunewave:ws-user-sockets:"

# KEYS: the user's slots. ARGV: socket id, expires_ms, now_ms, cap, key ttl_s.
_CLAIM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

# KEYS: the user's slots. ARGV: socket id, expires_ms, key ttl_s. Only a slot still held.
_REFRESH = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return 1
"""


def _key(user_id: uuid.UUID) -> str:
    return f"{_PREFIX}{user_id}"


class SocketSlot:
    """One socket's place in its user's count, kept alive until released."""

    def __init__(self, redis: Redis, user_id: uuid.UUID, socket_id: str, ttl_s: float) -> None:
        self.redis = redis
        self.user_id = user_id
        self.socket_id = socket_id
        self.ttl_s = ttl_s
        self._timer: asyncio.TimerHandle | None = None
        self._refreshing: asyncio.Task[Any] | None = None
        self._released = False

    def _expires_ms(self) -> int:
        return int((time.time() + self.ttl_s) * 1000)

    def keep_alive(self) -> None:
        if self._released:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.ttl_s / 3, self._refresh_soon)

    def _refresh_soon(self) -> None:
        self._refreshing = asyncio.create_task(self._refresh())

    async def _refresh(self) -> None:
        try:
            await self.redis.eval(  # type: ignore[misc]
                _REFRESH,
                1,
                _key(self.user_id),
                self.socket_id,
                self._expires_ms(),
                int(self.ttl_s) + 1,
            )
        except Exception:
            logger.warning("socket slot not refreshed", exc_info=True)
        self.keep_alive()

    async def release(self) -> None:
        self._released = True
        if self._timer is not None:
            self._timer.cancel()
        if self._refreshing is not None and not self._refreshing.done():
            self._refreshing.cancel()
        with contextlib.suppress(Exception):
            await self.redis.zrem(_key(self.user_id), self.socket_id)


async def claim_slot(
    redis: Redis, user_id: uuid.UUID, socket_id: str, *, cap: int, ttl_s: float
) -> SocketSlot | None:
    """A slot for a new socket of ``user_id``, or None when they hold ``cap`` already."""
    slot = SocketSlot(redis, user_id, socket_id, ttl_s)
    claimed = await redis.eval(  # type: ignore[misc]
        _CLAIM,
        1,
        _key(user_id),
        socket_id,
        slot._expires_ms(),
        int(time.time() * 1000),
        cap,
        int(ttl_s) + 1,
    )
    return slot if int(claimed) == 1 else None
