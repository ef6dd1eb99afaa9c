from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Message, Room, RoomMember, User

ONE_MICROSECOND = text("interval '1 microsecond'")


class HistoryRow(NamedTuple):
    id: uuid.UUID
    room_id: uuid.UUID
    seq: int
    text: str
    client_id: str | None
    created_at: datetime
    author_id: uuid.UUID | None
    author_display_name: str | None
    author_avatar_url: str | None
    author_is_demo: bool | None


class ChatRepository:
    async def get_room(
        self, session: AsyncSession, room_id: uuid.UUID, *, member_id: uuid.UUID | None
    ) -> tuple[Room, RoomMember | None] | None:
        """The room row alone (chat needs no genres), with ``member_id``'s membership.

        The membership comes in the same query and sits in the session's identity map while
        the caller holds it, so a membership check that follows (``session.get``) is
        answered without another round trip.
        """
        query = select(Room, RoomMember).where(Room.id == room_id)
        query = query.outerjoin(
            RoomMember,
            and_(RoomMember.room_id == Room.id, RoomMember.user_id == member_id),
        )
        row = (await session.execute(query)).first()
        return (row[0], row[1]) if row is not None else None

    async def history(
        self,
        session: AsyncSession,
        room_id: uuid.UUID,
        *,
        limit: int,
        before_seq: int | None,
        before_timestamp: datetime | None,
    ) -> list[HistoryRow]:
        """Newest first, with each author (None once their account is gone), in one query.

        Plain columns, not entities: a page is read-only, and skipping the identity map
        makes the hottest read in the product several times cheaper.
        """
        query = (
            select(
                Message.id,
                Message.room_id,
                Message.seq,
                Message.text,
                Message.client_id,
                Message.created_at,
                User.id.label("author_id"),
                User.display_name.label("author_display_name"),
                User.avatar_url.label("author_avatar_url"),
                User.is_demo.label("author_is_demo"),
            )
            .outerjoin(User, User.id == Message.user_id)
            .where(Message.room_id == room_id)
        )
        if before_timestamp is not None:
            query = query.where(Message.created_at < before_timestamp)
        if before_seq is not None:
            # created_at grows with seq (see insert), so this order is the same as the
            # timestamp order, and the (room_id, seq) index answers it directly.
            query = query.where(Message.seq < before_seq).order_by(Message.seq.desc())
        else:
            query = query.order_by(Message.created_at.desc(), Message.seq.desc())
        result = await session.execute(query.limit(limit))
        return [HistoryRow._make(row) for row in result]

    async def after_seq(
        self, session: AsyncSession, room_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> list[HistoryRow]:
        """Oldest first from ``after_seq`` (exclusive), from the (room_id, seq) index."""
        query = (
            select(
                Message.id,
                Message.room_id,
                Message.seq,
                Message.text,
                Message.client_id,
                Message.created_at,
                User.id.label("author_id"),
                User.display_name.label("author_display_name"),
                User.avatar_url.label("author_avatar_url"),
                User.is_demo.label("author_is_demo"),
            )
            .outerjoin(User, User.id == Message.user_id)
            .where(Message.room_id == room_id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
        result = await session.execute(query)
        return [HistoryRow._make(row) for row in result]

    async def get_by_client_id(
        self, session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID, client_id: str
    ) -> Message | None:
        return await session.scalar(
            select(Message).where(
                Message.room_id == room_id,
                Message.user_id == user_id,
                Message.client_id == client_id,
            )
        )

    async def next_seq(self, session: AsyncSession, room_id: uuid.UUID) -> int | None:
        """Hand out the room's next chat sequence number and mark the room active.

        The row lock this takes is held until commit, so posts in one room are serialised and
        seq numbers are gap-free in commit order. None when the room is gone.
        """
        return await session.scalar(
            update(Room)
            .where(Room.id == room_id)
            .values(
                last_message_seq=Room.last_message_seq + 1,
                last_activity_at=func.greatest(Room.last_activity_at, func.clock_timestamp()),
            )
            .returning(Room.last_message_seq),
            execution_options={"synchronize_session": False},
        )

    async def insert(
        self,
        session: AsyncSession,
        *,
        room_id: uuid.UUID,
        user_id: uuid.UUID,
        seq: int,
        text: str,
        client_id: str | None,
    ) -> Message | None:
        """Store a message; None when (room, user, client_id) is already stored.

        created_at is strictly greater than the room's previous message's: the wall clock,
        or one microsecond after the latest when the clock has not moved on (or stepped
        back). This statement runs after next_seq took the room's lock, so under READ
        COMMITTED its snapshot sees every earlier message, and created_at order is seq order.
        """
        latest = (
            select(func.max(Message.created_at) + ONE_MICROSECOND)
            .where(Message.room_id == room_id)
            .scalar_subquery()
        )
        statement = (
            insert(Message)
            .values(
                room_id=room_id,
                user_id=user_id,
                seq=seq,
                text=text,
                client_id=client_id,
                created_at=func.greatest(func.clock_timestamp(), latest),
            )
            .on_conflict_do_nothing(constraint="uq_messages_room_id_user_id_client_id")
            .returning(Message)
        )
        return await session.scalar(statement)


chat_repository = ChatRepository()
