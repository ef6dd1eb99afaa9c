"""Who is in a room right now, counted in Redis across every API process.

Per room, a sorted set of users scored by when their presence expires, and per user a sorted
set of their sockets (``<process>:<n>``) scored the same way. A process refreshes the scores
of its own sockets every third of the TTL; a killed process stops refreshing, so its sockets
expire and the next sweep (any process) reports those users as gone. Each change is one Lua
script, so "was this the user's first socket" and "was it their last" are decided atomically
even when sockets of one user open and close on different processes at the same time.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

PREFIX = "tunewave:presence:"
ROOMS_KEY = f"{PREFIX}rooms"


def users_key(room_id: str) -> str:
    return f"{PREFIX}{room_id}:users"


def info_key(room_id: str) -> str:
    return f"{PREFIX}{room_id}:info"


def sockets_prefix(room_id: str) -> str:
    return f"{PREFIX}{room_id}:sockets:"


# KEYS: users, info, sockets-of-user, rooms. ARGV: user, socket, expires_ms, now_ms, info, room
_JOIN = """
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
local had = redis.call('ZCARD', KEYS[3])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not current) or tonumber(current) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('SADD', KEYS[4], ARGV[6])
if had == 0 then return 1 end
return 0
"""

# KEYS: users, info, sockets-of-user. ARGV: user, socket, now_ms
_LEAVE = """
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[3])
  local removed = redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return removed
end
return 0
"""

# KEYS: users, info, rooms. ARGV: now_ms, sockets prefix, room.
# Users whose every socket expired: removed and returned with their info.
_SWEEP = """
local gone = {}
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, user in ipairs(stale) do
  local sockets = ARGV[2] .. user
  redis.call('ZREMRANGEBYSCORE', sockets, '-inf', ARGV[1])
  local latest = redis.call('ZRANGE', sockets, -1, -1, 'WITHSCORES')
  if #latest == 0 then
    redis.call('ZREM', KEYS[1], user)
    local info = redis.call('HGET', KEYS[2], user)
    redis.call('HDEL', KEYS[2], user)
    table.insert(gone, user)
    table.insert(gone, info or '')
  else
    redis.call('ZADD', KEYS[1], latest[2], user)
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[3])
end
return gone
"""


@dataclass(frozen=True, slots=True)
class PresentUser:
    user_id: str
    info: dict


class Presence:
    def __init__(self, redis: Redis, ttl_s: float) -> None:
        self.redis = redis
        self.ttl_ms = int(ttl_s * 1000)
        self._join = redis.register_script(_JOIN)
        self._leave = redis.register_script(_LEAVE)
        self._sweep = redis.register_script(_SWEEP)

    async def join(
        self, room_id: str, user_id: str, socket_id: str, info: dict, now_ms: int
    ) -> bool:
        """Register a socket; True when it is the user's first live socket in the room."""
        first = await self._join(
            keys=[
                users_key(room_id),
                info_key(room_id),
                sockets_prefix(room_id) + user_id,
                ROOMS_KEY,
            ],
            args=[user_id, socket_id, now_ms + self.ttl_ms, now_ms, json.dumps(info), room_id],
        )
        return bool(first)

    async def leave(self, room_id: str, user_id: str, socket_id: str, now_ms: int) -> bool:
        """Unregister a socket; True when it was the user's last live socket in the room."""
        last = await self._leave(
            keys=[users_key(room_id), info_key(room_id), sockets_prefix(room_id) + user_id],
            args=[user_id, socket_id, now_ms],
        )
        return bool(last)

    async def refresh(self, sockets: list[tuple[str, str, str]], now_ms: int) -> None:
        """Push the expiry of (room, user, socket) triples this process holds."""
        if not sockets:
            return
        expires_ms = now_ms + self.ttl_ms
        async with self.redis.pipeline(transaction=False) as pipe:
            for room_id, user_id, socket_id in sockets:
                pipe.zadd(sockets_prefix(room_id) + user_id, {socket_id: expires_ms}, xx=True)
                pipe.zadd(users_key(room_id), {user_id: expires_ms}, xx=True, gt=True)
            await pipe.execute()

    async def sweep(self, now_ms: int) -> dict[str, list[PresentUser]]:
        """Remove users whose sockets all expired, in every room; return them per room."""
        gone: dict[str, list[PresentUser]] = {}
        room_ids: set[str] = await self.redis.smembers(ROOMS_KEY)  # type: ignore[misc,assignment]
        for room_id in room_ids:
            result = await self._sweep(
                keys=[users_key(room_id), info_key(room_id), ROOMS_KEY],
                args=[now_ms, sockets_prefix(room_id), room_id],
            )
            users = [
                PresentUser(result[i], json.loads(result[i + 1]) if result[i + 1] else {})
                for i in range(0, len(result), 2)
            ]
            if users:
                gone[room_id] = users
        return gone

    async def online(self, room_id: str, now_ms: int) -> list[PresentUser]:
        user_ids: list[str] = await self.redis.zrangebyscore(  # type: ignore[assignment]
            users_key(room_id), now_ms, "+inf"
        )
        if not user_ids:
            return []
        infos: list[str | None] = await self.redis.hmget(  # type: ignore[misc,assignment]
            info_key(room_id), user_ids
        )
        return [
            PresentUser(user_id, json.loads(info) if info else {"id": user_id})
            for user_id, info in zip(user_ids, infos, strict=True)
        ]

    async def count(self, room_id: str, now_ms: int) -> int:
        return int(await self.redis.zcount(users_key(room_id), now_ms, "+inf"))

    async def counts(self, room_ids: list[str], now_ms: int) -> dict[str, int]:
        """Distinct users present now in each of ``room_ids``, in one round trip."""
        if not room_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for room_id in room_ids:
                pipe.zcount(users_key(room_id), now_ms, "+inf")
            counts = await pipe.execute()
        return {room_id: int(count) for room_id, count in zip(room_ids, counts, strict=True)}

    async def user_ids(self, room_id: str | uuid.UUID, now_ms: int) -> list[str]:
        user_ids: list[str] = await self.redis.zrangebyscore(  # type: ignore[assignment]
            users_key(str(room_id)), now_ms, "+inf"
        )
        return user_ids
