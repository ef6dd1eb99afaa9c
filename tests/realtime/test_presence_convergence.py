"""Presence converges (api/realtime/presence.py): the refresh re-adds what Redis lost, and
the sweep tells a stalled process from a dead one."""

from __future__ import annotations

import asyncio
import time
import uuid

from redis.asyncio import Redis

from api.realtime.events import now_ms
from api.realtime.presence import Presence


def _ids() -> tuple[str, str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())


async def test_the_refresh_re_adds_what_a_redis_restart_lost(redis: Redis) -> None:
    presence = Presence(redis, ttl_s=3)
    room, ann, bob = _ids()
    await presence.join(room, ann, "p1:1", {"id": ann}, 1_000)
    await presence.join(room, bob, "p1:2", {"id": bob}, 1_000)
    await redis.flushdb()  # Redis restarted empty
    assert await presence.count(room, 1_500) == 0

    readded = await presence.refresh(
        [(room, ann, "p1:1", {"id": ann}), (room, bob, "p1:2", {"id": bob})], 2_000, "p1"
    )
    assert {user.user_id for user in readded[room]} == {ann, bob}
    assert {user.user_id for user in await presence.online(room, 2_000)} == {ann, bob}
    # A second refresh finds them present: nothing re-added, nothing announced twice.
    assert await presence.refresh([(room, ann, "p1:1", {"id": ann})], 2_500, "p1") == {}


async def test_a_stalled_process_keeps_its_users_and_a_dead_or_moving_one_does_not(
    redis: Redis,
) -> None:
    presence = Presence(redis, ttl_s=3, process_grace_s=60)
    room, stalled, gone = _ids()
    # Both processes refreshed their sockets at t=1000 (expiring at 4000).
    await presence.refresh([(room, stalled, "stalled:1", {"id": stalled})], 1_000, "stalled")
    await presence.refresh([(room, gone, "alive:1", {"id": gone})], 1_000, "alive")
    # The "alive" process ticked again at 2000 without that socket (it closed, its leave was
    # lost); the "stalled" process did not tick at all.
    await presence.refresh([], 2_000, "alive")
    swept = await presence.sweep(5_000)
    assert [user.user_id for user in swept.get(room, [])] == [gone]
    # The stalled process's user is no longer counted, but not announced as gone...
    assert await presence.count(room, 5_000) == 0
    assert await presence.present(room, stalled)
    # ...and is back in the count with the process's next refresh, without a re-add.
    assert (
        await presence.refresh([(room, stalled, "stalled:1", {"id": stalled})], 6_000, "stalled")
        == {}
    )
    assert await presence.count(room, 6_000) == 1


async def test_a_process_that_stalls_before_its_first_refresh_keeps_its_users(
    redis: Redis,
) -> None:
    # Sockets joined (a storm of arrivals) and the process stalled before its first
    # heartbeat: the join stamped one, so the sweep tells it from a dead process.
    presence = Presence(redis, ttl_s=3, process_grace_s=60)
    room, ann, bob = _ids()
    assert await presence.join(room, ann, "fresh:1", {"id": ann}, 1_000)
    assert await presence.join(room, bob, "fresh:2", {"id": bob}, 1_500)
    assert await presence.sweep(9_000) == {}
    assert await presence.present(room, ann)
    assert await presence.present(room, bob)
    # A later join does not move an earlier heartbeat forward past ann's socket.
    await presence.refresh([(room, ann, "other:1", {"id": ann})], 1_000, "other")
    assert await presence.join(room, str(uuid.uuid4()), "other:2", {}, 2_000)
    assert await presence.sweep(9_000) == {}


async def test_a_process_silent_for_the_whole_grace_loses_its_users(redis: Redis) -> None:
    presence = Presence(redis, ttl_s=0.5, process_grace_s=0.5)
    room, user, _ = _ids()
    at = now_ms()
    await presence.refresh([(room, user, "dead:1", {"id": user})], at, "dead")
    assert await presence.sweep(at + 100) == {}
    # The heartbeat key expires with the grace (real time, in Redis): poll until a sweep
    # takes the user (a loaded machine may run the sweep late, never early).
    deadline = time.monotonic() + 10
    swept = await presence.sweep(now_ms())
    while room not in swept and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        swept = await presence.sweep(now_ms())
    assert [u.user_id for u in swept[room]] == [user]


async def test_closing_a_socket_does_not_announce_a_user_whose_other_process_stalls(
    redis: Redis,
) -> None:
    presence = Presence(redis, ttl_s=3, process_grace_s=60)
    room, user, _ = _ids()
    await presence.refresh([(room, user, "stalled:1", {"id": user})], 1_000, "stalled")
    # Later (the stalled socket expired at 4000) the user opens and closes a socket elsewhere.
    assert not await presence.join(room, user, "alive:1", {"id": user}, 3_000)
    assert not await presence.leave(room, user, "alive:1", 5_000)
    assert await presence.present(room, user)
    assert await presence.sweep(5_000) == {}
