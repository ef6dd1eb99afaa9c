"""Room events: the frames every socket of a room receives, published through Redis.

A frame is a pydantic model (the domains' ``schemas.py``, gathered in ``api/live/wire.py``);
nothing here knows which: this module imports no domain code.

Each room has one pub/sub channel. Any process (or a REST request, or a worker) publishes a
room event there, and every API process with sockets in that room delivers it to them. The
publisher never waits for sockets, and pub/sub is at-most-once: chat is stored in PostgreSQL
first, so a client that missed something sends ``resume``.

When Redis does not take a publish, the process's hub (if it runs one) is told through
``set_publish_fallback``: it delivers the event to its own sockets at once and publishes it
again when Redis is back (see ``Hub.publish_failed``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import after_commit
from api.core.redis import get_redis
from api.realtime.schemas import encode_frame

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "tunewave:room-events:"


def room_channel(room_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{room_id}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# Called with (room id, encoded frame) when Redis refused a publish; set by the process's hub.
PublishFallback = Callable[[str, str], None]
_publish_fallback: PublishFallback | None = None


def set_publish_fallback(fallback: PublishFallback | None) -> None:
    global _publish_fallback
    _publish_fallback = fallback


async def publish(redis: Redis, room_id: uuid.UUID | str, frame: BaseModel) -> None:
    """Send ``frame`` (a server frame model, ``api/live/wire.py``) to every socket of the
    room on every process (best effort). Encoded here, once: every process hands the same
    text to all its sockets."""
    text = encode_frame(frame)
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
    session: AsyncSession, room_id: uuid.UUID, frame: BaseModel, redis: Redis | None = None
) -> None:
    """Publish once the session's transaction has committed (never for a rollback)."""

    async def send() -> None:
        await publish(redis or get_redis(), room_id, frame)

    after_commit(session, send)
