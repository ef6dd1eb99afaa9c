from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.core.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UpstreamError,
    error_responses,
)
from api.deps import CurrentUser, OptionalUser, RedisDep, SessionDep, SettingsDep
from api.queue.schemas import QueueAdd, QueueEntryResponse, QueueMove
from api.queue.service import queue_service
from api.rooms.schemas import StatusResponse

router = APIRouter(prefix="/rooms", tags=["queue"])


@router.get("/{room_id}/queue", responses=error_responses(Unauthorized, Forbidden, NotFound))
async def list_queue(
    room_id: uuid.UUID, user: OptionalUser, session: SessionDep, redis: RedisDep
) -> list[QueueEntryResponse]:
    """The upcoming queue: the playing entry first, then the queued ones in play order."""
    entries = await queue_service.list_upcoming(session, user, room_id, redis=redis)
    return [QueueEntryResponse.from_entry(entry) for entry in entries]


@router.post(
    "/{room_id}/queue",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, TooManyRequests, UpstreamError
    ),
)
async def add_to_queue(
    room_id: uuid.UUID,
    data: QueueAdd,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> QueueEntryResponse:
    """Add a track to the queue (the owner; any member when the room's policy is members)."""
    entry = await queue_service.add(session, redis, settings, user, room_id, data.spotify_id)
    return QueueEntryResponse.from_entry(entry)


@router.get(
    "/{room_id}/queue/{association_id}",
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def get_queue_entry(
    room_id: uuid.UUID, association_id: uuid.UUID, user: OptionalUser, session: SessionDep
) -> QueueEntryResponse:
    """One entry of the room's queue, whatever its status."""
    return QueueEntryResponse.from_entry(
        await queue_service.get_entry(session, user, room_id, association_id)
    )


@router.delete(
    "/{room_id}/queue/{association_id}",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def remove_from_queue(
    room_id: uuid.UUID, association_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> StatusResponse:
    """Remove a queued track (the owner, or the member who added it)."""
    await queue_service.remove(session, user, room_id, association_id)
    return StatusResponse(status="removed")


@router.post(
    "/{room_id}/queue/{association_id}/move",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def move_queue_entry(
    room_id: uuid.UUID,
    association_id: uuid.UUID,
    data: QueueMove,
    user: CurrentUser,
    session: SessionDep,
) -> list[QueueEntryResponse]:
    """Move a queued track to another place (owner only); returns the new order."""
    entries = await queue_service.move(session, user, room_id, association_id, data.index)
    return [QueueEntryResponse.from_entry(entry) for entry in entries]
