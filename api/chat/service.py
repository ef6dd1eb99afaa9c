from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api import ratelimit
from api.chat.repository import chat_repository
from api.chat.schemas import MessageCreate
from api.exceptions import NotFound
from api.models import Message, Room, User
from api.rooms.service import rooms_service

# Per user and room: enough for a lively conversation, not for a flood.
MESSAGES_PER_WINDOW = 10
MESSAGE_WINDOW_S = 10


@dataclass(frozen=True, slots=True)
class MessageView:
    message: Message
    # None once the author deleted their account.
    author: User | None


@dataclass(frozen=True, slots=True)
class PostedMessage:
    view: MessageView
    # False when a resend with a known client_id returned the stored message.
    created: bool


class ChatService:
    async def history(
        self,
        session: AsyncSession,
        user: User | None,
        room_id: uuid.UUID,
        *,
        limit: int,
        before_seq: int | None = None,
        before_timestamp: datetime | None = None,
    ) -> list[MessageView]:
        """A page of the room's chat, newest first (private rooms: members only)."""
        room = await self._room(session, room_id)
        await rooms_service.ensure_can_see_inside(session, room, user)
        rows = await chat_repository.history(
            session,
            room.id,
            limit=limit,
            before_seq=before_seq,
            before_timestamp=before_timestamp,
        )
        return [MessageView(message, author) for message, author in rows]

    async def post(
        self,
        session: AsyncSession,
        redis: Redis,
        user: User,
        room_id: uuid.UUID,
        data: MessageCreate,
    ) -> PostedMessage:
        """Store a message from a member; a resend with the same client_id is a no-op."""
        room = await self._room(session, room_id)
        await rooms_service.ensure_member(session, room, user)
        if data.client_id is not None:
            stored = await chat_repository.get_by_client_id(
                session, room.id, user.id, data.client_id
            )
            if stored is not None:
                return PostedMessage(MessageView(stored, user), created=False)
        # Counted after the resend check: a client retrying after a timeout is not flooding.
        await ratelimit.enforce(
            redis,
            f"tunewave:chat-rate:{room.id}:{user.id}",
            limit=MESSAGES_PER_WINDOW,
            window_s=MESSAGE_WINDOW_S,
            what="messages",
        )
        message = await self._insert(session, user, room.id, data)
        if message is None:
            # A concurrent resend with the same client_id committed first.
            assert data.client_id is not None
            stored = await chat_repository.get_by_client_id(
                session, room.id, user.id, data.client_id
            )
            if stored is None:
                raise NotFound("message not found")
            return PostedMessage(MessageView(stored, user), created=False)
        # Live delivery (the next issue) goes here: after_commit(session, publish), so a
        # message reaches the room's sockets only once it is stored.
        return PostedMessage(MessageView(message, user), created=True)

    async def _insert(
        self, session: AsyncSession, user: User, room_id: uuid.UUID, data: MessageCreate
    ) -> Message | None:
        if data.client_id is None:
            return await self._insert_unguarded(session, user, room_id, data)
        # The savepoint undoes the seq bump when a concurrent resend won the race, so a
        # duplicate never consumes a sequence number.
        savepoint = await session.begin_nested()
        message = await self._insert_unguarded(session, user, room_id, data)
        if message is None:
            await savepoint.rollback()
        else:
            await savepoint.commit()
        return message

    async def _insert_unguarded(
        self, session: AsyncSession, user: User, room_id: uuid.UUID, data: MessageCreate
    ) -> Message | None:
        seq = await chat_repository.next_seq(session, room_id)
        if seq is None:
            raise NotFound("room not found")
        return await chat_repository.insert(
            session,
            room_id=room_id,
            user_id=user.id,
            seq=seq,
            text=data.text,
            client_id=data.client_id,
        )

    async def _room(self, session: AsyncSession, room_id: uuid.UUID) -> Room:
        room = await chat_repository.get_room(session, room_id)
        if room is None:
            raise NotFound("room not found")
        return room


chat_service = ChatService()
