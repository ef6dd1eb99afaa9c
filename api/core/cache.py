"""Read models in Redis: the JSON of hot public reads, kept until a commit changes them.

The hottest reads (the room list, one room, a room's latest chat page, catalog search) are
the same bytes for every anonymous or public-room reader until somebody writes. Each cached
answer lives in a Redis hash per *scope* (``rooms`` for the room list, ``room:<id>`` for one
room and its chat, ``catalog`` for search) under a field naming the request.

Writers invalidate scopes after their commit (``invalidate_after_commit``): the scope's
generation counter goes up and its hash is dropped in one transaction. A reader that missed
stores what it computed only if the generation it saw *before* reading PostgreSQL is still
current, so an answer computed from data older than a commit can never outlive that commit's
invalidation. Entries also expire (``ENTRY_TTL_S``), which bounds staleness should an
invalidation itself be lost (Redis unreachable right after a commit), and a scope holds at
most ``MAX_FIELDS`` answers, so unusual queries cannot grow it without bound.

A cache that cannot be reached is a miss, never an error: reads fall back to PostgreSQL.

In front of Redis, each API process keeps a *near cache*: the answers it just read, for
``LOCAL_TTL_S`` at most, so a room thousands of people open at once costs one Redis round
trip per process per moment, not one per request. Invalidations reach every process over
Redis pub/sub (``listen_for_invalidations``, started by the app's lifespan); the near cache
only serves while that subscription is live, is emptied whenever it (re)connects, and never
stores an answer fetched before an invalidation it has since heard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import after_commit
from api.core.redis import get_redis

logger = logging.getLogger(__name__)

PREFIX = "tunewave:cache"
ENTRY_TTL_S = 60
GENERATION_TTL_S = 24 * 3600
MAX_FIELDS = 2_000
LOCAL_TTL_S = 2.0
# While one request refreshes an expired near-cache entry, the others keep reading the old
# copy (for at most this long) instead of all asking Redis at once.
LOCAL_REFRESH_GRACE_S = 0.5
LOCAL_MAX_ENTRIES = 10_000
# Rooms' answers carry ``online_count`` (presence), which changes without any commit: their
# entries expire this soon, so a count is at most this + LOCAL_TTL_S + LOCAL_REFRESH_GRACE_S
# (7.5 s) old. Presence changes do not invalidate: a crowd connecting would otherwise empty
# the room list's cache once per person.
ONLINE_COUNT_MAX_AGE_S = 5


def invalidations_channel(redis: Redis) -> str:
    """The pub/sub channel for invalidations of this Redis database's cache.

    Pub/sub channels are shared by all of a server's databases, so the database number is
    part of the name: deployments (or test suites) on other databases never hear ours.
    """
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"tunewave:cache-invalidations:{db}"


ROOM_LIST = "rooms"
CATALOG = "catalog"


def room_scope(room_id: object) -> str:
    return f"room:{room_id}"


def entry_ttl_s(scope: str) -> int:
    """How long a scope's stored answers live at most (without an invalidation)."""
    if scope == ROOM_LIST or scope.startswith("room:"):
        return ONLINE_COUNT_MAX_AGE_S
    return ENTRY_TTL_S


def _keys(scope: str) -> tuple[str, str]:
    return f"{PREFIX}:{scope}", f"{PREFIX}-gen:{scope}"


# One round trip for a hit; a miss answers the generation to store against.
_GET = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then return {1, value} end
return {0, redis.call('GET', KEYS[2]) or '0'}
"""

# Store only while the generation read before computing is still current.
_PUT = """
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
"""


class NearCache:
    """This process's short-lived copies of read-cache answers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # Seconds, monotonic (a test moves it on instead of sleeping).
        self.clock = clock
        # scope -> field -> (value, expires_at, refresh started at or 0.0)
        self._entries: dict[str, dict[str, tuple[str, float, float]]] = {}
        self._size = 0
        # Bumped by every invalidation heard: an answer fetched before one is not kept.
        self.epoch = 0
        # True only while the invalidation subscription is live.
        self.listening = False

    def get(self, scope: str, field: str) -> str | None:
        if not self.listening:
            return None
        fields = self._entries.get(scope)
        found = fields.get(field) if fields else None
        if fields is None or found is None:
            return None
        value, expires_at, refreshing_since = found
        now = self.clock()
        if now < expires_at:
            return value
        if refreshing_since and now - refreshing_since < LOCAL_REFRESH_GRACE_S:
            return value  # another request is fetching the current answer right now
        fields[field] = (value, expires_at, now)  # this caller refreshes it
        return None

    def put(self, scope: str, field: str, value: str, epoch: int) -> None:
        if not self.listening or epoch != self.epoch:
            return
        if self._size >= LOCAL_MAX_ENTRIES:
            self._entries.clear()
            self._size = 0
        fields = self._entries.setdefault(scope, {})
        self._size += field not in fields
        fields[field] = (value, self.clock() + LOCAL_TTL_S, 0.0)

    def drop(self, scopes: Iterable[str]) -> None:
        self.epoch += 1
        for scope in scopes:
            self._size -= len(self._entries.pop(scope, {}))

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._size = 0


near_cache = NearCache()


@dataclass(frozen=True, slots=True)
class Miss:
    generation: str
    epoch: int = 0


class ReadCache:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, scope: str, field: str) -> str | Miss | None:
        """The cached JSON, a ``Miss`` to store against, or None when Redis is unreachable."""
        local = near_cache.get(scope, field)
        if local is not None:
            return local
        epoch = near_cache.epoch
        try:
            found, value = await self.redis.eval(_GET, 2, *_keys(scope), field)  # type: ignore[misc]
        except RedisError:
            logger.warning("read cache unreachable: reading %s from the database", scope)
            return None
        if found:
            near_cache.put(scope, field, str(value), epoch)
            return str(value)
        return Miss(str(value), epoch)

    async def put(self, scope: str, field: str, value: str, miss: Miss) -> bool:
        try:
            stored = await self.redis.eval(  # type: ignore[misc]
                _PUT,
                2,
                *_keys(scope),
                miss.generation,
                field,
                value,
                entry_ttl_s(scope),
                MAX_FIELDS,
            )
        except RedisError:
            return False
        if stored:
            near_cache.put(scope, field, value, miss.epoch)
        return bool(stored)

    async def get_or_compute(
        self, scope: str, field: str, compute: Callable[[], Awaitable[str]]
    ) -> str:
        cached = await self.get(scope, field)
        if isinstance(cached, str):
            return cached
        value = await compute()
        if cached is not None:
            await self.put(scope, field, value, cached)
        return value

    async def invalidate(self, scopes: Iterable[str]) -> None:
        unique = sorted(set(scopes))
        if not unique:
            return
        near_cache.drop(unique)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for scope in unique:
                    entries, generation = _keys(scope)
                    pipe.incr(generation)
                    pipe.expire(generation, GENERATION_TTL_S)
                    pipe.delete(entries)
                pipe.publish(invalidations_channel(self.redis), json.dumps(unique))
                await pipe.execute()
        except RedisError:
            # The entries expire within ENTRY_TTL_S; the write itself is committed and fine.
            logger.warning("read cache invalidation failed for %s", ", ".join(unique))


def invalidate_after_commit(session: AsyncSession, *scopes: str) -> None:
    """Drop the scopes' cached reads once the session's transaction has committed.

    Scopes named by several calls in one unit of work are invalidated together, in one
    round trip; nothing happens when the transaction rolls back.
    """
    pending: tuple[Callable[[], Awaitable[None]], set[str]] | None = session.info.get(
        "cache_invalidation"
    )
    if pending is None or pending[0] not in session.info.get("after_commit", []):
        names: set[str] = set()

        async def invalidate() -> None:
            try:
                redis = get_redis()
            except RuntimeError:  # no Redis configured (a bare `catalog import`): no cache
                return
            await ReadCache(redis).invalidate(names)

        pending = (invalidate, names)
        session.info["cache_invalidation"] = pending
        after_commit(session, invalidate)
    pending[1].update(scopes)


def cache_field(**params: Any) -> str:
    """A stable field name for a request's parameters."""
    return "&".join(f"{name}={params[name]}" for name in sorted(params))


async def listen_for_invalidations(redis: Redis, *, retry_s: float = 1.0) -> None:
    """Keep this process's near cache in step with every process's invalidations.

    Runs until cancelled. While the subscription is down the near cache is off (reads go to
    Redis), and it starts empty each time the subscription comes back, since messages
    published meanwhile were lost.
    """
    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(invalidations_channel(redis))
            near_cache.clear()
            near_cache.listening = True
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                scopes = _scopes(message["data"])
                if scopes is None:  # not ours to read: forget everything to be safe
                    near_cache.clear()
                else:
                    near_cache.drop(scopes)
        except (RedisError, OSError) as exc:
            logger.warning("read cache invalidations unheard (%s); retrying", exc)
        finally:
            near_cache.listening = False
            near_cache.clear()
            await pubsub.aclose()
        await asyncio.sleep(retry_s)


def _scopes(data: str | bytes) -> list[str] | None:
    try:
        scopes = json.loads(data)
    except ValueError:
        return None
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        return None
    return scopes
