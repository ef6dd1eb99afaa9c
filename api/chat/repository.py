from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    column,
    false,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.core.db import autocommit_engine_for, in_autocommit
from api.models import Message, Room, RoomMember, User


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


class StoredMessage(NamedTuple):
    id: uuid.UUID
    room_id: uuid.UUID
    user_id: uuid.UUID
    seq: int
    text: str
    client_id: str | None
    created_at: datetime
    # False when (room, user, client_id) was already stored: this is that message.
    created: bool


class PostContext(NamedTuple):
    author_id: uuid.UUID
    author_display_name: str
    author_avatar_url: str | None
    author_is_demo: bool
    room_exists: bool
    is_member: bool
    # The message already stored under the post's client_id (a resend), if any.
    known: StoredMessage | None


def _room_with_membership(
    room_id: uuid.UUID, member_id: uuid.UUID | None
) -> Select[Room, RoomMember]:
    """The room row alone (chat needs no genres) and ``member_id``'s membership, if any."""
    return (
        select(Room, RoomMember)
        .where(Room.id == room_id)
        .outerjoin(RoomMember, and_(RoomMember.room_id == Room.id, RoomMember.user_id == member_id))
    )


def _post_context(with_client_id: bool) -> Select[tuple[Any, ...]]:
    """The statement of ``ChatRepository.get_post_context``, built once (Core columns and
    bound parameters: nothing is constructed or ORM-processed per post)."""
    users, rooms = User.__table__.c, Room.__table__.c
    members, messages = RoomMember.__table__.c, Message.__table__.c
    # No client_id, no resend to find (and never ``client_id IS NULL``).
    resend = (
        and_(
            messages.room_id == rooms.id,
            messages.user_id == users.id,
            messages.client_id == bindparam("client_id", type_=Text),
        )
        if with_client_id
        else false()
    )
    return (
        select(
            users.id,
            users.display_name,
            users.avatar_url,
            users.is_demo,
            rooms.id,
            members.user_id,
            messages.id,
            messages.seq,
            messages.text,
            messages.created_at,
        )
        .select_from(User.__table__)
        .outerjoin(Room.__table__, rooms.id == bindparam("room_id", type_=Uuid))
        .outerjoin(
            RoomMember.__table__, and_(members.room_id == rooms.id, members.user_id == users.id)
        )
        .outerjoin(Message.__table__, resend)
        .where(users.id == bindparam("user_id", type_=Uuid))
    )


# Indexed by whether the post has a client_id.
_POST_CONTEXT = (_post_context(False), _post_context(True))

# ``chat_post_message`` (migration 0006) as a table, with bound parameters.
_STORE = select(
    column("id", Uuid),
    column("seq", BigInteger),
    column("created_at", DateTime(timezone=True)),
    column("created", Boolean),
).select_from(
    func.chat_post_message(
        bindparam("id", type_=Uuid),
        bindparam("room_id", type_=Uuid),
        bindparam("user_id", type_=Uuid),
        bindparam("text", type_=Text),
        bindparam("client_id", type_=Text),
    ).table_valued("id", "seq", "created_at", "created")
)


class ChatRepository:
    async def get_room(
        self, session: AsyncSession, room_id: uuid.UUID, *, member_id: uuid.UUID | None
    ) -> tuple[Room, RoomMember | None] | None:
        """The room row alone (chat needs no genres), with ``member_id``'s membership.

        The membership comes in the same query and sits in the session's identity map while
        the caller holds it, so a membership check that follows (``session.get``) is
        answered without another round trip.
        """
        row = (await session.execute(_room_with_membership(room_id, member_id))).first()
        return (row[0], row[1]) if row is not None else None

    async def get_post_context(
        self, session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID, client_id: str | None
    ) -> PostContext | None:
        """What a post needs before its store, in one round trip and without ORM entities:
        the author, whether the room exists and they are a member, and the message they
        already stored under ``client_id`` (a resend). None when the user does not exist."""
        connection = await session.connection()
        result = await connection.execute(
            _POST_CONTEXT[client_id is not None],
            {"room_id": room_id, "user_id": user_id, "client_id": client_id},
        )
        row = result.first()
        if row is None:
            return None
        (author_id, name, avatar_url, is_demo, found_room, member, known_id, seq, text, at) = row
        known = (
            StoredMessage(known_id, room_id, author_id, seq, text, client_id, at, created=False)
            if known_id is not None
            else None
        )
        return PostContext(
            author_id, name, avatar_url, is_demo, found_room is not None, member is not None, known
        )

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

    async def store(
        self,
        session: AsyncSession,
        *,
        room_id: uuid.UUID,
        user_id: uuid.UUID,
        text: str,
        client_id: str | None,
    ) -> StoredMessage | None:
        """Store a message with the room's next seq; None when the room is gone.

        One call of ``chat_post_message`` (migration 0006) does it all in one statement: it
        locks the room row, returns the stored message when (room, user, client_id) is
        already there (``created`` False, no seq consumed), else bumps the room's seq and
        activity and inserts the message, with created_at strictly after the room's previous
        message. The room's lock must last that one statement, and the message is committed
        when this returns (whatever the caller's transaction does next): a session in
        autocommit (``use_autocommit``: a post) runs it on its own connection; any other
        session bound to an engine runs it on a connection of the autocommit pool. A session
        bound to a connection (a caller composing a bigger transaction) runs it inside that
        transaction instead.
        """
        parameters = {
            "id": uuid.uuid4(),
            "room_id": room_id,
            "user_id": user_id,
            "text": text,
            "client_id": client_id,
        }
        bind = session.bind
        if in_autocommit(session) or not isinstance(bind, AsyncEngine):
            connection = await session.connection()
            row = (await connection.execute(_STORE, parameters)).first()
        else:
            async with autocommit_engine_for(bind).connect() as connection:
                row = (await connection.execute(_STORE, parameters)).first()
        if row is None:
            return None
        return StoredMessage(
            id=row.id,
            room_id=room_id,
            user_id=user_id,
            seq=row.seq,
            text=text,
            client_id=client_id,
            created_at=row.created_at,
            created=row.created,
        )


chat_repository = ChatRepository()
