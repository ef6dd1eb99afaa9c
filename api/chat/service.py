from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.chat.repository import HistoryRow, StoredMessage, chat_repository
from api.chat.schemas import MessageCreate, MessageFrame
from api.core import ratelimit
from api.core.cache import ROOM_LIST, invalidate_after_commit, room_scope
from api.core.exceptions import Forbidden, NotFound, Unauthorized
from api.models import Room, RoomMember, User
from api.realtime.events import publish_after_commit
from api.rooms.service import rooms_service

# Per user and room: enough for a lively conversation, not for a flood.
MESSAGES_PER_WINDOW = 10
MESSAGE_WINDOW_S = 10


@dataclass(frozen=True, slots=True)
class Author:
    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    # A sample profile built from a public playlist, not a person.
    is_demo: bool = False


@dataclass(frozen=True, slots=True)
class MessageView:
    id: uuid.UUID
    room_id: uuid.UUID
    seq: int
    text: str
    client_id: str | None
    created_at: datetime
    # None once the author deleted their account.
    author: Author | None

    @classmethod
    def of_stored(cls, stored: StoredMessage, author: Author) -> MessageView:
        return cls(
            id=stored.id,
            room_id=stored.room_id,
            seq=stored.seq,
            text=stored.text,
            client_id=stored.client_id,
            created_at=stored.created_at,
            author=author,
        )

    @classmethod
    def of_row(cls, row: HistoryRow) -> MessageView:
        author = None
        if row.author_id is not None and row.author_display_name is not None:
            author = Author(
                row.author_id,
                row.author_display_name,
                row.author_avatar_url,
                bool(row.author_is_demo),
            )
        return cls(
            id=row.id,
            room_id=row.room_id,
            seq=row.seq,
            text=row.text,
            client_id=row.client_id,
            created_at=row.created_at,
            author=author,
        )


@dataclass(frozen=True, slots=True)
class HistoryPage:
    messages: list[MessageView]
    # Public rooms' pages are the same for every reader (and so may be cached).
    room_is_public: bool


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
    ) -> HistoryPage:
        """A page of the room's chat, newest first (private rooms: members only)."""
        room, membership = await self._room(session, room_id, user)
        rooms_service.check_can_see_inside(room, user, membership)
        rows = await chat_repository.history(
            session,
            room.id,
            limit=limit,
            before_seq=before_seq,
            before_timestamp=before_timestamp,
        )
        return HistoryPage([MessageView.of_row(row) for row in rows], not room.is_private)

    async def post(
        self,
        session: AsyncSession,
        redis: Redis,
        user_id: uuid.UUID,
        room_id: uuid.UUID,
        data: MessageCreate,
    ) -> PostedMessage:
        """Store a message from a member; a resend with the same client_id is a no-op."""
        found = await chat_repository.get_post_context(session, room_id, user_id, data.client_id)
        if found is None:
            raise Unauthorized("unknown user", code="invalid_token")
        if not found.room_exists:
            raise NotFound("room not found", code="room_not_found")
        if not found.is_member:
            raise Forbidden("members only: join the room first", code="not_a_member")
        author = Author(
            user_id, found.author_display_name, found.author_avatar_url, found.author_is_demo
        )
        if found.known is not None:
            return PostedMessage(MessageView.of_stored(found.known, author), created=False)
        # Counted after the resend check: a client retrying after a timeout is not flooding.
        await ratelimit.enforce(
            redis,
            f"tunewave:chat-rate:{room_id}:{user_id}",
            limit=MESSAGES_PER_WINDOW,
            window_s=MESSAGE_WINDOW_S,
            what="messages",
        )
        stored = await chat_repository.store(
            session, room_id=room_id, user_id=user_id, text=data.text, client_id=data.client_id
        )
        if stored is None:
            raise NotFound("room not found", code="room_not_found")
        view = MessageView.of_stored(stored, author)
        if not stored.created:
            # A concurrent resend with the same client_id was stored first.
            return PostedMessage(view, created=False)
        # The room's latest page and its place in the activity-ordered list change.
        invalidate_after_commit(session, ROOM_LIST, room_scope(room_id))
        # Only a stored message reaches the room's sockets. The store committed on its own
        # (see ChatRepository.store), so the room hears it after the caller's commit as
        # before; a lost publish is healed by the hubs' reorder window (docs/realtime.md).
        publish_after_commit(session, room_id, MessageFrame.from_view(view), redis)
        return PostedMessage(view, created=True)

    async def since(
        self, session: AsyncSession, room_id: uuid.UUID, *, after_seq: int, limit: int
    ) -> list[MessageView]:
        """Messages with seq > after_seq, oldest first (for a live client's resume)."""
        rows = await chat_repository.after_seq(session, room_id, after_seq=after_seq, limit=limit)
        return [MessageView.of_row(row) for row in rows]

    async def _room(
        self, session: AsyncSession, room_id: uuid.UUID, user: User | None
    ) -> tuple[Room, RoomMember | None]:
        found = await chat_repository.get_room(
            session, room_id, member_id=user.id if user is not None else None
        )
        if found is None:
            raise NotFound("room not found", code="room_not_found")
        return found


chat_service = ChatService()
