"""How long each listener heard the current entry, tracked in Redis between transitions.

Per room and queue entry, ``marks`` holds, for each user present now, the track position at
which they started hearing it (they joined, the track started, or a seek moved them), and
``heard`` the milliseconds heard in earlier stretches (before a seek, or before they left).
Positions are track positions, so a pause needs no bookkeeping: the position stands still.
At a transition the totals are read without changing anything (the transaction that inserts
the listening events may still roll back), and the keys are dropped after the commit.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

PREFIX = "tunewave:listening:"
# Keys of an entry nobody transitioned away from (a crashed process) do not live forever.
KEY_TTL_S = 2 * 24 * 3600


def _keys(room_id: uuid.UUID | str, entry_id: uuid.UUID | str) -> list[str]:
    base = f"{PREFIX}{room_id}:{entry_id}"
    return [f"{base}:marks", f"{base}:heard"]


# KEYS: marks, heard. ARGV: position, ttl, users...
_ABSENT = """
for i = 3, #ARGV do
  local mark = redis.call('HGET', KEYS[1], ARGV[i])
  if mark then
    redis.call('HDEL', KEYS[1], ARGV[i])
    local heard = tonumber(ARGV[1]) - tonumber(mark)
    if heard > 0 then redis.call('HINCRBY', KEYS[2], ARGV[i], heard) end
    redis.call('EXPIRE', KEYS[2], ARGV[2])
  end
end
return 0
"""

# KEYS: marks, heard. ARGV: from position, to position, ttl
_SEEK = """
local marks = redis.call('HGETALL', KEYS[1])
for i = 1, #marks, 2 do
  local heard = tonumber(ARGV[1]) - tonumber(marks[i + 1])
  if heard > 0 then redis.call('HINCRBY', KEYS[2], marks[i], heard) end
  redis.call('HSET', KEYS[1], marks[i], ARGV[2])
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 0
"""

# KEYS: marks, heard. ARGV: end position. Read only.
_TOTALS = """
local totals = {}
local heard = redis.call('HGETALL', KEYS[2])
for i = 1, #heard, 2 do totals[heard[i]] = tonumber(heard[i + 1]) end
local marks = redis.call('HGETALL', KEYS[1])
for i = 1, #marks, 2 do
  local more = tonumber(ARGV[1]) - tonumber(marks[i + 1])
  if more < 0 then more = 0 end
  totals[marks[i]] = (totals[marks[i]] or 0) + more
end
local flat = {}
for user, ms in pairs(totals) do
  table.insert(flat, user)
  table.insert(flat, ms)
end
return flat
"""


class ListeningTracker:
    def __init__(self) -> None:
        self._scripts: dict[tuple[int, str], object] = {}

    def _script(self, redis: Redis, source: str):  # type: ignore[no-untyped-def]
        key = (id(redis), source)
        if key not in self._scripts:
            self._scripts[key] = redis.register_script(source)
        return self._scripts[key]

    async def present(
        self,
        redis: Redis,
        room_id: uuid.UUID | str,
        entry_id: uuid.UUID | str,
        user_ids: list[str],
        position_ms: int,
    ) -> None:
        """These users hear the entry from ``position_ms`` on (kept if already hearing)."""
        if not user_ids:
            return
        marks, _ = _keys(room_id, entry_id)
        async with redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hsetnx(marks, user_id, position_ms)
            pipe.expire(marks, KEY_TTL_S)
            await pipe.execute()

    async def absent(
        self,
        redis: Redis,
        room_id: uuid.UUID | str,
        entry_id: uuid.UUID | str,
        user_ids: list[str],
        position_ms: int,
    ) -> None:
        """These users stopped hearing the entry at ``position_ms`` (one script call)."""
        if not user_ids:
            return
        await self._script(redis, _ABSENT)(
            keys=_keys(room_id, entry_id), args=[position_ms, KEY_TTL_S, *user_ids]
        )

    async def seek(
        self,
        redis: Redis,
        room_id: uuid.UUID | str,
        entry_id: uuid.UUID | str,
        from_ms: int,
        to_ms: int,
    ) -> None:
        await self._script(redis, _SEEK)(
            keys=_keys(room_id, entry_id), args=[from_ms, to_ms, KEY_TTL_S]
        )

    async def totals(
        self, redis: Redis, room_id: uuid.UUID | str, entry_id: uuid.UUID | str, end_ms: int
    ) -> dict[str, int]:
        """Milliseconds each listener heard if the entry ended at ``end_ms`` (changes nothing)."""
        flat = await self._script(redis, _TOTALS)(keys=_keys(room_id, entry_id), args=[end_ms])
        return {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def forget(
        self, redis: Redis, room_id: uuid.UUID | str, entry_id: uuid.UUID | str
    ) -> None:
        await redis.delete(*_keys(room_id, entry_id))


listening_tracker = ListeningTracker()
