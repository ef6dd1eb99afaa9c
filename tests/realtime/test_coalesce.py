"""Coalesced reads (api/realtime/coalesce.py): what a storm of hellos shares, and what it
must not (a value read before a caller asked)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from redis.asyncio import Redis

from api.realtime.coalesce import Coalesced
from api.realtime.presence import Presence


class Source:
    """A value that changes; each read takes a moment and records when it started."""

    def __init__(self) -> None:
        self.version = 0
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None
        self.started = asyncio.Event()

    async def read(self, key: str) -> tuple[str, int]:
        self.reads += 1
        self.started.set()
        seen = self.version
        await self.gate.wait()
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return key, seen


async def test_callers_that_ask_before_a_read_starts_share_it() -> None:
    source = Source()
    reads = Coalesced(source.read)
    results = await asyncio.gather(*(reads.get("room") for _ in range(50)))
    assert set(results) == {("room", 0)}
    assert source.reads == 1
    # Another key is read on its own.
    assert await reads.get("other") == ("other", 0)
    assert source.reads == 2


async def test_a_caller_arriving_during_a_read_gets_a_later_read() -> None:
    source = Source()
    reads = Coalesced(source.read)
    source.gate.clear()
    first = asyncio.create_task(reads.get("room"))
    await source.started.wait()  # the read has started, with version 0
    source.version = 1  # something changed after that read began
    late = [asyncio.create_task(reads.get("room")) for _ in range(3)]
    await asyncio.sleep(0)
    source.gate.set()
    assert await first == ("room", 0)
    # The late callers never see the value read before they asked.
    assert {await task for task in late} == {("room", 1)}
    assert source.reads == 2


async def test_a_cancelled_caller_leaves_the_others_their_read() -> None:
    source = Source()
    reads = Coalesced(source.read)
    source.gate.clear()
    callers = [asyncio.create_task(reads.get("room")) for _ in range(3)]
    await source.started.wait()
    callers[0].cancel()
    source.gate.set()
    assert [await task for task in callers[1:]] == [("room", 0), ("room", 0)]
    with pytest.raises(asyncio.CancelledError):
        await callers[0]


async def test_an_error_reaches_every_caller_of_that_read_and_the_next_read_runs() -> None:
    source = Source()
    reads = Coalesced(source.read)
    source.fail = RuntimeError("down")
    outcomes = await asyncio.gather(*(reads.get("room") for _ in range(4)), return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    source.fail = None
    assert await reads.get("room") == ("room", 0)


async def test_close_cancels_the_callers_of_a_read_in_flight() -> None:
    source = Source()
    reads = Coalesced(source.read)
    source.gate.clear()
    caller = asyncio.create_task(reads.get("room"))
    await source.started.wait()
    await reads.close()
    with pytest.raises(asyncio.CancelledError):
        await caller


async def test_online_json_is_the_online_list_without_decoding(redis: Redis) -> None:
    presence = Presence(redis, ttl_s=3)
    room, ann, bob = (str(uuid.uuid4()) for _ in range(3))
    assert await presence.online_json(room, 1_000) == "[]"
    await presence.join(room, ann, "p1:1", {"id": ann, "display_name": "Ann «A»"}, 1_000)
    await presence.join(room, bob, "p1:2", {"id": bob, "display_name": "Bob"}, 1_000)
    listed = json.loads(await presence.online_json(room, 2_000))
    assert sorted(listed, key=lambda user: user["display_name"]) == [
        {"id": ann, "display_name": "Ann «A»"},
        {"id": bob, "display_name": "Bob"},
    ]
    assert [user.info for user in await presence.online(room, 2_000)] == listed
    # Expired entries are not listed.
    assert await presence.online_json(room, 10_000) == "[]"
