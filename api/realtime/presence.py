"""Who is in a room right now, counted in Redis across every API process.

Per room, a sorted set of users scored by when their presence expires, and per user a sorted
set of their sockets (``<process>:<n>``) scored the same way. A process refreshes the scores
of its own sockets every third of the TTL; a killed process stops refreshing, so its sockets
expire and the next sweep (any process) reports those users as gone. Each change is one Lua
script, so "was this the user's first socket" and "was it their last" are decided atomically
even when sockets of one user open and close on different processes at the same time.

Convergence: the refresh is a heartbeat that re-adds whatever is missing (its sockets, their
users, the room), so after Redis restarts empty, or after entries were swept while this
process was stalled, the online set is whole again within one refresh period; it reports the
users it re-added so the hub can announce them. Each process also stamps its own heartbeat
(``process:<id>``, the same instant as its sockets' refresh, kept ``process_grace_s``). The
sweep removes an expired socket only if its process has ticked since (the socket is really
gone) or has stopped heart-beating for the whole grace (the process is dead): a process that
is merely stalled (SIGSTOP, a long GC, an overloaded host) keeps its users, who drop out of
the online count once expired but are not announced as `left`.
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


def socket_process(socket_id: str) -> str:
    """The process of a socket id (``<process>:<n>``), as the sweep reads it."""
    return socket_id.split(":", 1)[0]


def sockets_prefix(room_id: str) -> str:
    return f"{PREFIX}{room_id}:sockets:"


PROCESS_PREFIX = f"{PREFIX}process:"


def process_key(process_id: str) -> str:
    return f"{PROCESS_PREFIX}{process_id}"


# KEYS: users, info, sockets-of-user, rooms, process heartbeat. ARGV: user, socket, expires_ms,
# now_ms, info, room, grace_ms. A process that has not refreshed yet gets its first heartbeat
# here (only if it has none: an earlier one must stay, or the sweep would take sockets
# refreshed before it for gone while the process stalls).
_JOIN = """
redis.call('SET', KEYS[5], ARGV[4], 'NX', 'PX', ARGV[7])
local had = redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[4], '+inf')
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
# Expired sockets of the user stay for the sweep to judge (their process may only be stalled).
_LEAVE = """
redis.call('ZREM', KEYS[3], ARGV[2])
if redis.call('ZCARD', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[3])
  local removed = redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return removed
end
return 0
"""

# KEYS: users, info, rooms. ARGV: now_ms, sockets prefix, room, ttl_ms, process prefix.
# Users whose every socket is gone are removed and returned with their info. An expired socket
# is gone when its process ticked after the socket's last refresh (it would have refreshed a
# live socket) or has no heartbeat left (dead for the whole grace); otherwise the process is
# stalled and the socket is kept.
_SWEEP = """
local gone = {}
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, user in ipairs(stale) do
  local sockets = ARGV[2] .. user
  local expired = redis.call('ZRANGEBYSCORE', sockets, '-inf', ARGV[1], 'WITHSCORES')
  for i = 1, #expired, 2 do
    local socket = expired[i]
    local score = tonumber(expired[i + 1])
    local process = string.match(socket, '^([^:]*):') or socket
    local beat = redis.call('GET', ARGV[5] .. process)
    if (not beat) or tonumber(beat) > score - ttl then
      redis.call('ZREM', sockets, socket)
    end
  end
  local latest = redis.call('ZRANGE', sockets, -1, -1, 'WITHSCORES')
  if #latest == 0 then
    redis.call('ZREM', KEYS[1], user)
    local info = redis.call('HGET', KEYS[2], user)
    redis.call('HDEL', KEYS[2], user)
    table.insert(gone, user)
    table.insert(gone, info or '')
  elseif tonumber(latest[2]) > now then
    redis.call('ZADD', KEYS[1], latest[2], user)
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[3])
end
return gone
"""

# KEYS: users, info, rooms. ARGV: expires_ms, sockets prefix, room, then (user, socket, info)
# triples. Pushes the expiry of each socket and its user, re-adding whatever is missing;
# returns the users that were missing (lost with a Redis restart, or swept while stalled).
_REFRESH = """
local readded = {}
local seen = {}
for i = 4, #ARGV, 3 do
  local user = ARGV[i]
  redis.call('ZADD', ARGV[2] .. user, ARGV[1], ARGV[i + 1])
  local current = redis.call('ZSCORE', KEYS[1], user)
  if not current then
    if not seen[user] then
      table.insert(readded, user)
    end
    redis.call('ZADD', KEYS[1], ARGV[1], user)
    redis.call('HSET', KEYS[2], user, ARGV[i + 2])
  elseif tonumber(current) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[1], user)
  end
  seen[user] = true
end
redis.call('SADD', KEYS[3], ARGV[3])
return readded
"""


@dataclass(frozen=True, slots=True)
class PresentUser:
    user_id: str
    info: dict


class Presence:
    def __init__(self, redis: Redis, ttl_s: float, process_grace_s: float = 60.0) -> None:
        self.redis = redis
        self.ttl_ms = int(ttl_s * 1000)
        self.grace_ms = max(int(process_grace_s * 1000), self.ttl_ms)
        self._join = redis.register_script(_JOIN)
        self._leave = redis.register_script(_LEAVE)
        self._sweep = redis.register_script(_SWEEP)
        self._refresh = redis.register_script(_REFRESH)

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
                process_key(socket_process(socket_id)),
            ],
            args=[
                user_id,
                socket_id,
                now_ms + self.ttl_ms,
                now_ms,
                json.dumps(info),
                room_id,
                self.grace_ms,
            ],
        )
        return bool(first)

    async def leave(self, room_id: str, user_id: str, socket_id: str, now_ms: int) -> bool:
        """Unregister a socket; True when it was the user's last live socket in the room."""
        last = await self._leave(
            keys=[users_key(room_id), info_key(room_id), sockets_prefix(room_id) + user_id],
            args=[user_id, socket_id, now_ms],
        )
        return bool(last)

    async def refresh(
        self,
        sockets: list[tuple[str, str, str, dict]],
        now_ms: int,
        process_id: str | None = None,
    ) -> dict[str, list[PresentUser]]:
        """Push the expiry of (room, user, socket, info) this process holds, re-adding what
        is missing, and stamp the process's heartbeat; return the re-added users per room."""
        expires_ms = now_ms + self.ttl_ms
        per_room: dict[str, list[tuple[str, str, dict]]] = {}
        for room_id, user_id, socket_id, info in sockets:
            per_room.setdefault(room_id, []).append((user_id, socket_id, info))
        rooms = list(per_room)
        async with self.redis.pipeline(transaction=False) as pipe:
            if process_id is not None:
                pipe.set(process_key(process_id), now_ms, px=self.grace_ms)
            for room_id in rooms:
                args: list[str | int] = [expires_ms, sockets_prefix(room_id), room_id]
                for user_id, socket_id, info in per_room[room_id]:
                    args += [user_id, socket_id, json.dumps(info)]
                await self._refresh(
                    keys=[users_key(room_id), info_key(room_id), ROOMS_KEY],
                    args=args,
                    client=pipe,
                )
            results = await pipe.execute()
        if process_id is not None:
            results = results[1:]
        readded: dict[str, list[PresentUser]] = {}
        for room_id, users in zip(rooms, results, strict=True):
            infos = {user_id: info for user_id, _, info in per_room[room_id]}
            if users:
                readded[room_id] = [PresentUser(u, infos.get(u) or {"id": u}) for u in users]
        return readded

    async def sweep(self, now_ms: int) -> dict[str, list[PresentUser]]:
        """Remove users whose sockets all expired, in every room; return them per room."""
        gone: dict[str, list[PresentUser]] = {}
        room_ids: set[str] = await self.redis.smembers(ROOMS_KEY)  # type: ignore[misc,assignment]
        for room_id in room_ids:
            result = await self._sweep(
                keys=[users_key(room_id), info_key(room_id), ROOMS_KEY],
                args=[now_ms, sockets_prefix(room_id), room_id, self.ttl_ms, PROCESS_PREFIX],
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

    async def online_json(self, room_id: str, now_ms: int) -> str:
        """``online`` as the JSON list of the users' infos, joined from the stored texts
        (this process wrote them with json.dumps) without decoding each one."""
        user_ids: list[str] = await self.redis.zrangebyscore(  # type: ignore[assignment]
            users_key(room_id), now_ms, "+inf"
        )
        if not user_ids:
            return "[]"
        infos: list[str | None] = await self.redis.hmget(  # type: ignore[misc,assignment]
            info_key(room_id), user_ids
        )
        parts = [
            info if info else json.dumps({"id": user_id})
            for user_id, info in zip(user_ids, infos, strict=True)
        ]
        return f"[{','.join(parts)}]"

    async def present(self, room_id: str, user_id: str) -> bool:
        """Whether the user has an entry in the room at all (expired or not)."""
        return await self.redis.zscore(users_key(room_id), user_id) is not None

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
        # None: an offline stand-in answered (Redis down, api.core.redis.OfflineRedis); the
        # count is unknown, and nobody is counted rather than failing the whole read.
        return {room_id: int(count or 0) for room_id, count in zip(room_ids, counts, strict=True)}

    async def user_ids(self, room_id: str | uuid.UUID, now_ms: int) -> list[str]:
        user_ids: list[str] = await self.redis.zrangebyscore(  # type: ignore[assignment]
            users_key(str(room_id)), now_ms, "+inf"
        )
        return user_ids
