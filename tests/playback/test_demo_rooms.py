"""Demo rooms play their playlist in a loop on the server's clock, with nobody connected."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import session_scope
from api.demo.service import demo_service
from api.models import (
    Artist,
    ListeningEvent,
    QueueEntry,
    QueueEntryStatus,
    Room,
    RoomMember,
    RoomPlayback,
    Track,
    User,
)
from api.playback.listening import listening_tracker
from api.playback.service import playback_service
from api.tracks.service import catalog_artist_id
from tests.factories import create_track, create_user
from tests.support.people import SignIn

T0 = 1_800_000_000_000
# The playlist: 100 s, 200 s and 300 s long, a 600 s loop.
LENGTHS_MS = (100_000, 200_000, 300_000)
LOOP_MS = sum(LENGTHS_MS)


class Clock:
    def __init__(self) -> None:
        self.at_ms = T0

    def __call__(self) -> int:
        return self.at_ms


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(playback_service, "clock", clock)
    return clock


async def demo_room(
    session: AsyncSession, name: str = "Jazz Lounge (demo)", artist: str = "Test Artist"
) -> tuple[Room, list[Track], User]:
    """A demo room as the first start seeds it: run by a demo listener, playing from T0."""
    owner = await create_user(session, display_name="Jazz Classics (demo)")
    member = await create_user(session, display_name="Late Night Jazz (demo)")
    owner.is_demo = member.is_demo = True
    playlist = [
        await create_track(session, duration_ms=length, artists=[artist]) for length in LENGTHS_MS
    ]
    await session.flush()
    await demo_service.add_room(
        session,
        name=name,
        description="Demo room",
        owner_id=owner.id,
        member_ids=[member.id],
        genre_ids=[],
        track_ids=[track.id for track in playlist],
        started_at_ms=T0,
    )
    await session.commit()
    room = await session.scalar(select(Room).where(Room.name == name))
    assert room is not None
    return room, playlist, owner


async def playback(client: httpx.AsyncClient, room: Room) -> dict:
    response = await client.get(f"/rooms/{room.id}/playback")
    assert response.status_code == 200, response.text
    return response.json()


async def entry_count(session: AsyncSession, room: Room) -> int:
    return int(await session.scalar(select(func.count()).where(QueueEntry.room_id == room.id)) or 0)


async def test_a_demo_room_plays_on_the_clock_with_nobody_there_and_loops(
    client: httpx.AsyncClient, session: AsyncSession, clock: Clock
) -> None:
    room, playlist, _ = await demo_room(session)

    clock.at_ms = T0 + 50_000
    state = await playback(client, room)
    assert (state["status"], state["track"]["id"], state["position_ms"]) == (
        "playing",
        str(playlist[0].id),
        50_000,
    )
    version = state["version"]

    # 250 s in: the second track, 150 s into it, started the instant the first ended.
    clock.at_ms = T0 + 250_000
    state = await playback(client, room)
    assert (state["track"]["id"], state["position_ms"]) == (str(playlist[1].id), 150_000)
    assert state["started_at_ms"] == T0 + 100_000
    assert state["version"] == version + 1

    # Three loops and 420 s later nobody looked: one move straight to the third track, 120 s in.
    clock.at_ms = T0 + 3 * LOOP_MS + 420_000
    state = await playback(client, room)
    assert (state["track"]["id"], state["position_ms"]) == (str(playlist[2].id), 120_000)
    assert state["started_at_ms"] == T0 + 3 * LOOP_MS + 300_000
    assert state["version"] == version + 2
    # Reading again changes nothing.
    assert (await playback(client, room))["version"] == version + 2

    # The end of the loop: the playlist starts again, and the queue shows it.
    clock.at_ms = T0 + 4 * LOOP_MS + 30_000
    state = await playback(client, room)
    assert (state["track"]["id"], state["position_ms"]) == (str(playlist[0].id), 30_000)
    queue = (await client.get(f"/rooms/{room.id}/queue")).json()
    assert [entry["track"]["spotify_id"] for entry in queue] == [t.spotify_id for t in playlist]
    assert [entry["status"] for entry in queue] == ["playing", "queued", "queued"]
    assert queue[0]["added_by_user"]["is_demo"] is True
    # Looping reuses the playlist's entries; nobody was there, so nobody has it in history.
    assert await entry_count(session, room) == 3
    assert await session.scalar(select(func.count()).select_from(ListeningEvent)) == 0


async def test_the_queue_shows_what_the_clock_says_even_before_playback_is_read(
    client: httpx.AsyncClient, session: AsyncSession, clock: Clock
) -> None:
    room, playlist, _ = await demo_room(session)
    clock.at_ms = T0 + LOOP_MS + 150_000
    queue = (await client.get(f"/rooms/{room.id}/queue")).json()
    assert [(entry["track"]["spotify_id"], entry["status"]) for entry in queue] == [
        (playlist[1].spotify_id, "playing"),
        (playlist[2].spotify_id, "queued"),
    ]


async def test_an_idle_demo_room_starts_playing_when_read(
    client: httpx.AsyncClient, session: AsyncSession, clock: Clock
) -> None:
    room, playlist, _ = await demo_room(session)
    # As a room seeded before demo rooms played: nothing playing, the playlist queued.
    clock.at_ms = T0 + 10 * LOOP_MS
    await session.execute(
        update(QueueEntry)
        .where(QueueEntry.room_id == room.id)
        .values(status=QueueEntryStatus.queued)
    )
    await session.execute(
        update(RoomPlayback)
        .where(RoomPlayback.room_id == room.id)
        .values(current_entry_id=None, started_at_ms=None)
    )
    await session.commit()

    state = await playback(client, room)
    assert (state["status"], state["track"]["id"]) == ("playing", str(playlist[0].id))
    assert state["started_at_ms"] == clock.at_ms


async def test_members_add_tracks_that_play_next_once_and_only_those_there_get_history(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    sign_in: SignIn,
    clock: Clock,
) -> None:
    room, playlist, owner = await demo_room(session)
    alice, bob = await sign_in("alice"), await sign_in("bob")
    wish = await create_track(session, duration_ms=120_000)
    second_wish = await create_track(session, duration_ms=60_000)
    await session.commit()
    for person in (alice, bob):
        joined = await client.post(f"/rooms/{room.id}/join", headers=person.headers)
        assert joined.status_code == 200, joined.text
        assert joined.json()["is_demo"] is True

    clock.at_ms = T0 + 50_000
    for person, track in ((alice, wish), (bob, second_wish)):
        added = await client.post(
            f"/rooms/{room.id}/queue", json={"spotify_id": track.spotify_id}, headers=person.headers
        )
        assert added.status_code == 201, added.text
        assert added.json()["added_by_user"]["is_demo"] is False
    queue = (await client.get(f"/rooms/{room.id}/queue")).json()
    # People's tracks come next, in the order they were added, ahead of the playlist.
    assert [entry["track"]["spotify_id"] for entry in queue] == [
        playlist[0].spotify_id,
        wish.spotify_id,
        second_wish.spotify_id,
        playlist[1].spotify_id,
        playlist[2].spotify_id,
    ]
    members = (await client.get(f"/rooms/{room.id}/members")).json()
    assert {m["display_name"]: m["is_demo"] for m in members} == {
        "Jazz Classics (demo)": True,
        "Late Night Jazz (demo)": True,
        "alice": False,
        "bob": False,
    }

    # Alice listens to her track from its start (T0 + 100 s); nobody else is there.
    clock.at_ms = T0 + 110_000
    state = await playback(client, room)
    assert (state["track"]["id"], state["position_ms"]) == (str(wish.id), 10_000)
    await listening_tracker.present(
        redis, room.id, uuid.UUID(state["entry_id"]), [str(alice.user.id)], 0
    )

    # Past the whole loop: her track played once, the playlist went on and started again.
    # (playlist[0] to 100 s, the two wishes to 280 s, the rest of the playlist to 780 s.)
    clock.at_ms = T0 + 780_000 + 5_000
    state = await playback(client, room)
    assert (state["track"]["id"], state["position_ms"]) == (str(playlist[0].id), 5_000)
    queue = (await client.get(f"/rooms/{room.id}/queue")).json()
    assert [entry["track"]["spotify_id"] for entry in queue] == [t.spotify_id for t in playlist]
    # People's played tracks leave with the loop: the queue does not grow by looping.
    assert await entry_count(session, room) == 3
    events = list(await session.scalars(select(ListeningEvent)))
    assert [(event.user_id, event.track_id, event.ms_played) for event in events] == [
        (alice.user.id, wish.id, 120_000)
    ]
    assert owner.id not in {event.user_id for event in events}


async def test_processes_noticing_at_once_move_a_demo_room_once(redis: Redis, clock: Clock) -> None:
    # Each reader in its own committed transaction (the rolled-back test transaction is one
    # connection and cannot race); what is made here is removed at the end.
    async with session_scope() as setup:
        tag = uuid.uuid4().hex[:8]
        room, playlist, _ = await demo_room(setup, name=f"Race {tag}", artist=f"Race Artist {tag}")
        people = list(
            await setup.scalars(select(RoomMember.user_id).where(RoomMember.room_id == room.id))
        )
        before = await setup.scalar(
            select(RoomPlayback.version).where(RoomPlayback.room_id == room.id)
        )
    clock.at_ms = T0 + 2 * LOOP_MS + 150_000

    async def read() -> tuple[int, uuid.UUID | None]:
        async with session_scope() as own:
            state = await playback_service.current(own, redis, room.id)
        return state.version, state.track_id

    try:
        results = await asyncio.gather(*(read() for _ in range(4)))
        assert set(results) == {((before or 0) + 1, playlist[1].id)}
    finally:
        async with session_scope() as cleanup:
            await cleanup.execute(delete(Room).where(Room.id == room.id))
            await cleanup.execute(delete(Track).where(Track.id.in_([t.id for t in playlist])))
            await cleanup.execute(
                delete(Artist).where(Artist.id == catalog_artist_id(f"Race Artist {tag}"))
            )
            await cleanup.execute(delete(User).where(User.id.in_(people)))


async def test_room_recommendations_show_what_a_demo_room_plays_now_and_nobody_as_listening(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, clock: Clock
) -> None:
    room, playlist, _ = await demo_room(session)
    alice = await sign_in("alice")
    clock.at_ms = T0 + 5 * LOOP_MS + 350_000  # the third track

    body = (await client.get("/recommendations/rooms", headers=alice.headers)).json()

    (item,) = [item for item in body["items"] if item["room"]["id"] == str(room.id)]
    assert item["room"]["is_demo"] is True
    assert item["room"]["now_playing"]["spotify_id"] == playlist[2].spotify_id
    assert (item["room"]["member_count"], item["room"]["online_count"]) == (2, 0)
    assert [part["code"] for part in item["reason_parts"]] == ["now_playing"]
    assert "listening" not in item["reason"]
    assert "here now" not in item["reason"]


async def test_a_members_track_finds_its_place_even_without_a_gap(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, clock: Clock
) -> None:
    room, playlist, _ = await demo_room(session)
    alice = await sign_in("alice")
    wish = await create_track(session, duration_ms=120_000)
    # The next playlist entry sits right after the playing one: no position left between.
    await session.execute(
        update(QueueEntry)
        .where(QueueEntry.room_id == room.id, QueueEntry.track_id == playlist[1].id)
        .values(position=1025)
    )
    await session.commit()
    await client.post(f"/rooms/{room.id}/join", headers=alice.headers)

    added = await client.post(
        f"/rooms/{room.id}/queue", json={"spotify_id": wish.spotify_id}, headers=alice.headers
    )

    assert added.status_code == 201, added.text
    queue = (await client.get(f"/rooms/{room.id}/queue")).json()
    assert [entry["track"]["spotify_id"] for entry in queue] == [
        playlist[0].spotify_id,
        wish.spotify_id,
        playlist[1].spotify_id,
        playlist[2].spotify_id,
    ]
    positions = [entry["position"] for entry in queue]
    assert positions == sorted(set(positions))
