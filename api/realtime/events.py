"""Room events: the frames every socket of a room receives, published through Redis.

Each room has one pub/sub channel. Any process (or a REST request, or a worker) publishes a
room event there, and every API process with sockets in that room delivers it to them. The
publisher never waits for sockets, and pub/sub is at-most-once: chat is stored in PostgreSQL
first, so a client that missed something sends ``resume``.

When Redis does not take a publish, the process's hub (if it runs one) is told through
``set_publish_fallback``: it delivers the event to its own sockets at once and publishes it
again when Redis is back (see ``Hub.publish_failed``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import after_commit
from api.redis import get_redis

if TYPE_CHECKING:
    from api.chat.service import MessageView

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "tunewave:room-events:"


def room_channel(room_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{room_id}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), default=str)


# Called with (room id, encoded frame) when Redis refused a publish; set by the process's hub.
PublishFallback = Callable[[str, str], None]
_publish_fallback: PublishFallback | None = None


def set_publish_fallback(fallback: PublishFallback | None) -> None:
    global _publish_fallback
    _publish_fallback = fallback


async def publish(redis: Redis, room_id: uuid.UUID | str, frame: dict[str, Any]) -> None:
    """Send ``frame`` to every socket of the room on every process (best effort)."""
    text = encode(frame)
    try:
        await redis.publish(room_channel(room_id), text)
    except Exception as exc:
        # The change itself is committed; this process's sockets get it now and the others
        # when Redis is back (or by resume and refetches).
        logger.warning(
            "room event not published: %s",
            type(exc).__name__,
            extra={"room_id": str(room_id)},
        )
        if _publish_fallback is not None:
            _publish_fallback(str(room_id), text)


def publish_after_commit(
    session: AsyncSession, room_id: uuid.UUID, frame: dict[str, Any], redis: Redis | None = None
) -> None:
    """Publish once the session's transaction has committed (never for a rollback)."""

    async def send() -> None:
        await publish(redis or get_redis(), room_id, frame)

    after_commit(session, send)


def user_brief(
    user_id: uuid.UUID | str,
    display_name: str | None,
    avatar_url: str | None,
    is_demo: bool = False,
) -> dict:
    return {
        "id": str(user_id),
        "display_name": display_name,
        "avatar_url": avatar_url,
        "is_demo": is_demo,
    }


def message_frame(view: MessageView) -> dict[str, Any]:
    """A stored chat message, shaped like ``MessageResponse`` plus its type."""
    author = view.author
    return {
        "type": "message",
        "id": str(view.id),
        "room_id": str(view.room_id),
        "seq": view.seq,
        "user": user_brief(author.id, author.display_name, author.avatar_url, author.is_demo)
        if author is not None
        else None,
        "text": view.text,
        "client_id": view.client_id,
        "created_at": view.created_at.isoformat(),
    }
