"""Playback over REST: the state, who controls it, compare-and-set, listening events."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import ListeningEvent, QueueEntry, QueueEntryStatus, RoomPlayback
from api.playback.listening import listening_tracker
from tests.queue.conftest import Join, Tracks
from tests.support.people import CreateRoom, SignedIn, SignIn


@pytest.fixture
async def owner(sign_in: SignIn) -> SignedIn:
    return await sign_in("owner")


async def queued(
    client: httpx.AsyncClient, room: dict, owner: SignedIn, tracks: Tracks, count: int
) -> list[str]:
    entries = []
    for track in await tracks(count):
        response = await client.post(
            f"/rooms/{room['id']}/queue",
            json={"spotify_id": track.spotify_id},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
        entries.append(response.json()["association_id"])
    return entries


async def control(
    client: httpx.AsyncClient, room: dict, who: SignedIn, **body: object
) -> httpx.Response:
    return await client.post(f"/rooms/{room['id']}/playback", json=body, headers=who.headers)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_a_new_room_is_idle(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom
) -> None:
    room = await create_room(owner, "idle room")
    response = await client.get(f"/rooms/{room['id']}/playback")
    assert response.status_code == 200
    state = response.json()
    assert state["status"] == "idle"
    assert state["entry_id"] is None
    assert state["track"] is None
    assert state["position_ms"] == 0
    assert abs(state["server_time_ms"] - now_ms()) < 2000
    assert (await client.get(f"/rooms/{uuid.uuid4()}/playback")).status_code == 404


async def test_play_pause_seek_and_skip_follow_the_clock(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom, tracks: Tracks
) -> None:
    room = await create_room(owner, "controls")
    assert (await control(client, room, owner, action="play")).status_code == 404
    entries = await queued(client, room, owner, tracks, 2)

    played = (await control(client, room, owner, action="play")).json()
    assert played["status"] == "playing"
    assert played["entry_id"] == entries[0]
    assert played["track"]["duration_ms"] == 200_000
    assert abs(played["started_at_ms"] - now_ms()) < 2000
    queue = (await client.get(f"/rooms/{room['id']}/queue")).json()
    assert [(e["association_id"], e["status"]) for e in queue] == [
        (entries[0], "playing"),
        (entries[1], "queued"),
    ]

    sought = (await control(client, room, owner, action="seek", position_ms=60_000)).json()
    assert sought["version"] == played["version"] + 1
    assert 60_000 <= sought["position_ms"] < 62_000
    assert abs(sought["started_at_ms"] - (now_ms() - 60_000)) < 2000

    paused = (await control(client, room, owner, action="pause")).json()
    assert paused["status"] == "paused"
    assert paused["started_at_ms"] is None
    assert 60_000 <= paused["paused_position_ms"] < 62_000
    later = (await client.get(f"/rooms/{room['id']}/playback")).json()
    assert later["position_ms"] == paused["paused_position_ms"]

    resumed = (await control(client, room, owner, action="play")).json()
    assert resumed["status"] == "playing"
    assert abs(resumed["position_ms"] - paused["paused_position_ms"]) < 2000

    skipped = (await control(client, room, owner, action="skip")).json()
    assert skipped["entry_id"] == entries[1]
    assert skipped["position_ms"] < 2000
    last = (await control(client, room, owner, action="skip")).json()
    assert last["status"] == "idle"
    assert last["version"] == played["version"] + 5


async def test_only_the_owner_and_djs_control_playback(
    client: httpx.AsyncClient,
    owner: SignedIn,
    sign_in: SignIn,
    create_room: CreateRoom,
    tracks: Tracks,
    join: Join,
) -> None:
    room = await create_room(owner, "owner controls")
    await queued(client, room, owner, tracks, 1)
    member = await sign_in("member")
    outsider = await sign_in("outsider")
    await join(member, room)
    refused = await control(client, room, member, action="play")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "only the room's owner or a DJ controls playback",
        "code": "owner_only",
    }
    assert (await control(client, room, outsider, action="play")).status_code == 403
    anonymous = await client.post(f"/rooms/{room['id']}/playback", json={"action": "play"})
    assert anonymous.status_code == 401
    assert (await control(client, room, owner, action="play")).status_code == 200


async def test_private_rooms_show_their_playback_to_members_only(
    client: httpx.AsyncClient, owner: SignedIn, sign_in: SignIn, create_room: CreateRoom
) -> None:
    room = await create_room(owner, "secret", is_private=True, password="open sesame")
    stranger = await sign_in("stranger")
    assert (await client.get(f"/rooms/{room['id']}/playback")).status_code == 401
    response = await client.get(f"/rooms/{room['id']}/playback", headers=stranger.headers)
    assert response.status_code == 403
    response = await client.get(f"/rooms/{room['id']}/playback", headers=owner.headers)
    assert response.status_code == 200


async def test_bad_commands_are_refused_with_a_reason(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom, tracks: Tracks
) -> None:
    room = await create_room(owner, "bad commands")
    assert (await control(client, room, owner, action="seek", position_ms=5)).status_code == 404
    assert (await control(client, room, owner, action="dance")).status_code == 422
    assert (await control(client, room, owner, action="seek", position_ms=-1)).status_code == 422
    await queued(client, room, owner, tracks, 1)
    state = (await control(client, room, owner, action="play")).json()
    beyond = await control(client, room, owner, action="seek", position_ms=200_000)
    assert beyond.status_code == 422
    assert beyond.json() == {
        "detail": "position_ms must be from 0 to 199999",
        "code": "invalid_input",
        "field": "position_ms",
    }
    missing = await control(client, room, owner, action="seek")
    assert missing.status_code == 422
    stale = await control(client, room, owner, action="pause", version=state["version"] - 1)
    assert stale.status_code == 409
    assert stale.json() == {
        "detail": f"playback is at version {state['version']}",
        "code": "stale_version",
    }
    fresh = await control(client, room, owner, action="pause", version=state["version"])
    assert fresh.status_code == 200
    assert fresh.json()["version"] == state["version"] + 1


async def test_an_ended_track_moves_on_when_read_and_members_who_heard_it_get_events(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    owner: SignedIn,
    sign_in: SignIn,
    create_room: CreateRoom,
    tracks: Tracks,
    join: Join,
) -> None:
    room = await create_room(owner, "heard it")
    room_id = uuid.UUID(room["id"])
    latecomer = await sign_in("latecomer")
    await join(latecomer, room)
    entries = await queued(client, room, owner, tracks, 2)
    state = (await control(client, room, owner, action="play")).json()
    entry_id = state["entry_id"]
    # The owner heard it from the start; the latecomer arrived at 3:10 of 3:20 (10 s heard).
    await listening_tracker.present(redis, room_id, entry_id, [str(owner.user.id)], 0)
    await listening_tracker.present(redis, room_id, entry_id, [str(latecomer.user.id)], 190_000)
    # As if it started 201 s ago: it ended a second ago.
    await session.execute(
        update(RoomPlayback)
        .where(RoomPlayback.room_id == room_id)
        .values(started_at_ms=now_ms() - 201_000)
    )
    await session.commit()

    moved = (await client.get(f"/rooms/{room['id']}/playback")).json()
    assert moved["entry_id"] == entries[1]
    assert moved["version"] == state["version"] + 1
    again = (await client.get(f"/rooms/{room['id']}/playback")).json()
    assert again["version"] == moved["version"]

    events = list(
        await session.scalars(select(ListeningEvent).where(ListeningEvent.room_id == room_id))
    )
    assert [(e.user_id, e.ms_played) for e in events] == [(owner.user.id, 200_000)]
    first = await session.scalar(select(QueueEntry).where(QueueEntry.id == uuid.UUID(entries[0])))
    assert first is not None
    assert first.status == QueueEntryStatus.played
    # The next entry started at the instant the first ended, not when somebody looked.
    assert abs(moved["position_ms"] - 1_000) < 2_000


async def test_a_skip_gives_events_to_those_who_heard_enough_of_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    owner: SignedIn,
    create_room: CreateRoom,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "skipped")
    room_id = uuid.UUID(room["id"])
    await queued(client, room, owner, tracks, 1)
    state = (await control(client, room, owner, action="play")).json()
    await listening_tracker.present(redis, room_id, state["entry_id"], [str(owner.user.id)], 0)
    await session.execute(
        update(RoomPlayback)
        .where(RoomPlayback.room_id == room_id)
        .values(started_at_ms=now_ms() - 45_000)
    )
    await session.commit()
    skipped = (await control(client, room, owner, action="skip")).json()
    assert skipped["status"] == "idle"
    events = list(
        await session.scalars(select(ListeningEvent).where(ListeningEvent.room_id == room_id))
    )
    assert len(events) == 1
    assert 45_000 <= events[0].ms_played < 47_000
