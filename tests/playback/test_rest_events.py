"""REST changes reach the room's channel after their commit, and failed ones never do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from api.realtime.events import room_channel
from tests.conftest import TEST_REDIS_URL
from tests.queue.conftest import Join, Tracks
from tests.support.people import CreateRoom, SignIn


class Channel:
    def __init__(self, redis: Redis) -> None:
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)

    async def events(self, settle_s: float = 0.2) -> list[dict]:
        received = []
        deadline = asyncio.get_running_loop().time() + settle_s
        while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
            message = await self.pubsub.get_message(timeout=remaining)
            if message is not None:
                received.append(json.loads(message["data"]))
        return received


@pytest.fixture
async def channel(redis: Redis) -> AsyncIterator[Channel]:
    subscriber = Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    channel = Channel(subscriber)
    yield channel
    await channel.pubsub.aclose()
    await subscriber.aclose()


async def test_rest_actions_publish_their_events_to_the_room(
    client: httpx.AsyncClient,
    channel: Channel,
    sign_in: SignIn,
    create_room: CreateRoom,
    tracks: Tracks,
    join: Join,
) -> None:
    owner = await sign_in("owner")
    guest = await sign_in("guest")
    room = await create_room(owner, "eventful")
    await channel.pubsub.subscribe(room_channel(room["id"]))
    base = f"/rooms/{room['id']}"

    await join(guest, room)
    posted = await client.post(f"/chat/{room['id']}", json={"text": "hi"}, headers=guest.headers)
    assert posted.status_code == 201
    first, second = await tracks(2)
    added = []
    for track in (first, second):
        response = await client.post(
            f"{base}/queue", json={"spotify_id": track.spotify_id}, headers=owner.headers
        )
        added.append(response.json()["association_id"])
    moved = await client.post(
        f"{base}/queue/{added[1]}/move", json={"index": 0}, headers=owner.headers
    )
    assert moved.status_code == 200
    assert (
        await client.delete(f"{base}/queue/{added[0]}", headers=owner.headers)
    ).status_code == 200
    assert (
        await client.post(f"{base}/playback", json={"action": "play"}, headers=owner.headers)
    ).status_code == 200
    assert (
        await client.put(base, json={"description": "new"}, headers=owner.headers)
    ).status_code == 200
    assert (await client.post(f"{base}/leave", headers=guest.headers)).status_code == 200
    assert (await client.delete(base, headers=owner.headers)).status_code == 200

    events = await channel.events()
    summary = [
        (e["type"], e.get("action") or e.get("reason") or e.get("text") or e.get("user_id"))
        for e in events
    ]
    assert summary == [
        ("member_joined", str(guest.user.id)),
        ("message", "hi"),
        ("queue", "added"),
        ("queue", "added"),
        ("queue", "moved"),
        ("queue", "removed"),
        ("playback", "play"),
        ("room_updated", None),
        ("member_left", str(guest.user.id)),
        ("room_deleted", None),
    ]
    assert events[1]["seq"] == 1
    assert events[1]["user"]["id"] == str(guest.user.id)
    assert events[6]["state"]["entry_id"] == added[1]


async def test_refused_changes_publish_nothing(
    client: httpx.AsyncClient,
    channel: Channel,
    sign_in: SignIn,
    create_room: CreateRoom,
) -> None:
    owner = await sign_in("owner")
    stranger = await sign_in("stranger")
    room = await create_room(owner, "quiet")
    await channel.pubsub.subscribe(room_channel(room["id"]))
    refused = await client.post(
        f"/chat/{room['id']}", json={"text": "hi"}, headers=stranger.headers
    )
    assert refused.status_code == 403
    taken = await create_room(owner, "taken")
    conflict = await client.put(
        f"/rooms/{room['id']}", json={"name": taken["name"]}, headers=owner.headers
    )
    assert conflict.status_code == 409
    assert await channel.events() == []
