"""What the live hub (``api/realtime/hub.py``) reads from and tells the domains.

The hub is transport: sockets, Redis pub/sub, presence, timers. What a room holds (its
playback state, its chat) belongs to the playback and chat domains; the hub reaches them only
through :class:`api.realtime.hub.RoomData`, implemented here, so ``api/realtime`` imports no
domain code.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.chat.repository import chat_repository
from api.chat.schemas import MessageFrame
from api.chat.service import chat_service
from api.core.db import session_scope
from api.playback.schemas import PlaybackFrame
from api.playback.service import playback_service


class DomainRoomData:
    """``RoomData`` over the chat and playback services, one session of ``sessionmaker``
    (the app's) per call."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def snapshot(self, redis: Redis, room_id: uuid.UUID) -> tuple[dict[str, Any], int]:
        async with session_scope(self.sessionmaker) as session:
            state = await playback_service.current(session, redis, room_id)
            found = await chat_repository.get_room(session, room_id, member_id=None)
        return state.wire(), found[0].last_message_seq if found is not None else 0

    async def playback_state(self, redis: Redis, room_id: uuid.UUID) -> dict[str, Any]:
        async with session_scope(self.sessionmaker) as session:
            state = await playback_service.current(
                session, redis, room_id, raise_on_redis_error=True
            )
        return state.wire()

    def resync_frame(self, state: dict[str, Any]) -> BaseModel:
        return PlaybackFrame.of("resync", state)

    async def messages_since(
        self, room_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[tuple[int, BaseModel]]:
        async with session_scope(self.sessionmaker) as session:
            views = await chat_service.since(session, room_id, after_seq=after_seq, limit=limit)
        return [(view.seq, MessageFrame.from_view(view)) for view in views]

    async def listeners_changed(
        self, redis: Redis, room_id: uuid.UUID, arrived: list[str], left: list[str]
    ) -> None:
        async with session_scope(self.sessionmaker) as session:
            await playback_service.listeners_changed(session, redis, room_id, arrived, left)
