"""Two adds to one room at the same moment, each in its own committed transaction.

The rolled-back test transaction cannot show races (one connection), so this test commits
through the real engine and removes what it made afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select

from api.core.config import get_settings
from api.core.db import session_scope
from api.core.exceptions import Conflict
from api.core.redis import get_redis
from api.models import Artist, QueueEntry, QueuePolicy, Room, RoomMember, RoomRole, Track, User
from api.queue.service import MEMBER_SHARE_MIN_ENTRIES, queue_service
from api.tracks.service import catalog_artist_id
from tests.factories import create_track, create_user


@dataclass
class Committed:
    room_id: uuid.UUID
    owner: User
    member: User
    tracks: list[Track]


@pytest.fixture
async def committed() -> AsyncIterator[Committed]:
    artist = f"Race Artist {uuid.uuid4().hex[:8]}"
    async with session_scope() as session:
        owner = await create_user(session)
        member = await create_user(session)
        room = Room(name=f"race {uuid.uuid4().hex[:8]}", queue_policy=QueuePolicy.members)
        room.owner_id = owner.id
        session.add(room)
        await session.flush()
        session.add(RoomMember(room_id=room.id, user_id=owner.id, role=RoomRole.owner))
        session.add(RoomMember(room_id=room.id, user_id=member.id, role=RoomRole.member))
        tracks = [await create_track(session, artists=[artist]) for _ in range(8)]
    yield Committed(room.id, owner, member, tracks)
    async with session_scope() as session:
        await session.execute(delete(Room).where(Room.id == room.id))
        await session.execute(delete(Track).where(Track.id.in_([t.id for t in tracks])))
        await session.execute(delete(Artist).where(Artist.id == catalog_artist_id(artist)))
        await session.execute(delete(User).where(User.id.in_([owner.id, member.id])))


async def add_in_own_transaction(user: User, room_id: uuid.UUID, track: Track) -> str:
    try:
        async with session_scope() as session:
            # The user as this transaction reads it: the adds run at once, and an instance
            # belongs to one session at a time.
            mine = await session.get(User, user.id)
            assert mine is not None
            await queue_service.add(
                session, get_redis(), get_settings(), mine, room_id, track.spotify_id
            )
        return "added"
    except Conflict:
        return "conflict"


async def positions(room_id: uuid.UUID) -> list[int]:
    async with session_scope() as session:
        return list(
            await session.scalars(select(QueueEntry.position).where(QueueEntry.room_id == room_id))
        )


async def test_concurrent_adds_get_distinct_positions(committed: Committed) -> None:
    results = await asyncio.gather(
        *(
            add_in_own_transaction(committed.owner, committed.room_id, track)
            for track in committed.tracks[:4]
        )
    )
    assert results == ["added"] * 4
    stored = await positions(committed.room_id)
    assert len(stored) == 4
    assert len(set(stored)) == 4


async def test_concurrent_adds_cannot_break_a_members_share(committed: Committed) -> None:
    share = committed.tracks[: MEMBER_SHARE_MIN_ENTRIES - 1]
    for track in share:
        assert await add_in_own_transaction(committed.member, committed.room_id, track) == "added"
    racing = committed.tracks[MEMBER_SHARE_MIN_ENTRIES - 1 : MEMBER_SHARE_MIN_ENTRIES + 2]

    results = await asyncio.gather(
        *(add_in_own_transaction(committed.member, committed.room_id, t) for t in racing)
    )

    assert sorted(results) == ["added", "conflict", "conflict"]
    assert len(await positions(committed.room_id)) == MEMBER_SHARE_MIN_ENTRIES


async def test_the_same_track_added_twice_at_once_is_queued_once(committed: Committed) -> None:
    track = committed.tracks[0]
    results = await asyncio.gather(
        add_in_own_transaction(committed.owner, committed.room_id, track),
        add_in_own_transaction(committed.owner, committed.room_id, track),
    )
    assert sorted(results) == ["added", "conflict"]
