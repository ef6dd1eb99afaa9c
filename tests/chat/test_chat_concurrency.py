"""Concurrent posts in one room, each in its own committed transaction (no test rollback)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import pairwise

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, select, text

from api.chat.schemas import MessageCreate
from api.chat.service import PostedMessage, chat_service
from api.core.db import get_engine, get_sessionmaker, session_scope
from api.models import Message, Room, RoomMember, RoomRole, User


@dataclass
class CommittedRoom:
    room_id: uuid.UUID
    user_ids: list[uuid.UUID]


@pytest.fixture
async def committed_room() -> AsyncIterator[CommittedRoom]:
    """A public room with four members, committed for real and removed afterwards."""
    users = [User(display_name=f"racer {number}") for number in range(4)]
    room = Room(name=f"race-{uuid.uuid4().hex[:8]}", owner_id=None)
    async with session_scope() as session:
        session.add_all([*users, room])
        await session.flush()
        session.add_all(
            [RoomMember(room_id=room.id, user_id=user.id, role=RoomRole.member) for user in users]
        )
    try:
        yield CommittedRoom(room.id, [user.id for user in users])
    finally:
        async with session_scope() as session:
            await session.execute(delete(Room).where(Room.id == room.id))
            await session.execute(delete(User).where(User.id.in_([user.id for user in users])))


async def post(
    redis: Redis, room_id: uuid.UUID, user_id: uuid.UUID, text: str, client_id: str | None = None
) -> PostedMessage:
    async with session_scope(get_sessionmaker()) as session:
        return await chat_service.post(
            session, redis, user_id, room_id, MessageCreate(text=text, client_id=client_id)
        )


async def test_concurrent_posts_get_gap_free_seqs_in_created_at_order(
    committed_room: CommittedRoom, redis: Redis
) -> None:
    room_id = committed_room.room_id
    posts = [
        post(redis, room_id, user_id, f"{user_id} #{number}")
        for number in range(5)
        for user_id in committed_room.user_ids
    ]

    results = await asyncio.gather(*posts)

    assert all(result.created for result in results)
    async with session_scope() as session:
        stored = list(
            await session.scalars(
                select(Message).where(Message.room_id == room_id).order_by(Message.seq)
            )
        )
        room = await session.get_one(Room, room_id)
    assert [message.seq for message in stored] == list(range(1, 21))
    assert room.last_message_seq == 20
    created = [message.created_at for message in stored]
    assert all(earlier < later for earlier, later in pairwise(created))


async def waiting_for_locks(count: int) -> None:
    """Until ``count`` backends wait on a lock (polled: the moment is not observable else)."""
    async with get_engine().connect() as connection:
        for _ in range(500):
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting is not None and waiting >= count:
                return
            await connection.rollback()
            await asyncio.sleep(0.01)
    raise AssertionError(f"{count} posts never queued on the room's lock")


async def test_concurrent_resends_store_one_message_and_consume_one_seq(
    committed_room: CommittedRoom, redis: Redis
) -> None:
    room_id, user_id = committed_room.room_id, committed_room.user_ids[0]
    # Holding the room's row lock makes every resend pass the "already stored?" check
    # before any of them stores, so all of them race to insert.
    async with get_engine().connect() as locker:
        await locker.execute(select(Room.id).where(Room.id == room_id).with_for_update())
        tasks = [
            asyncio.create_task(post(redis, room_id, user_id, "only once", client_id="same"))
            for _ in range(4)
        ]
        await waiting_for_locks(4)
        await locker.commit()
    results = await asyncio.gather(*tasks)

    assert sorted(result.created for result in results) == [False, False, False, True]
    assert len({result.view.id for result in results}) == 1
    async with session_scope() as session:
        room = await session.get_one(Room, room_id)
        count = len(list(await session.scalars(select(Message).where(Message.room_id == room_id))))
    assert count == 1
    assert room.last_message_seq == 1


async def test_a_post_holds_the_rooms_lock_for_one_statement_not_until_the_callers_commit(
    committed_room: CommittedRoom, redis: Redis
) -> None:
    room_id, first, second = committed_room.room_id, *committed_room.user_ids[:2]
    async with session_scope(get_sessionmaker()) as open_session:
        held = await chat_service.post(
            open_session, redis, first, room_id, MessageCreate(text="still in a transaction")
        )
        # The caller's transaction is still open: another post goes through all the same
        # (the old row lock held until commit made this wait forever).
        other = await asyncio.wait_for(post(redis, room_id, second, "meanwhile"), 20)
        # And the first message is already visible to everyone.
        async with session_scope() as reader:
            seqs = list(
                await reader.scalars(
                    select(Message.seq).where(Message.room_id == room_id).order_by(Message.seq)
                )
            )
    assert (held.view.seq, other.view.seq) == (1, 2)
    assert seqs == [1, 2]
