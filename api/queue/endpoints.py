from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CurrentUser, OptionalUser, RedisDep, SessionDep, SettingsDep
from api.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UpstreamError,
    error_responses,
)
from api.models import QueueEntry
from api.queue.schemas import QueueAdd, QueueEntryAdder, QueueEntryResponse, QueueMove
from api.queue.service import queue_service
from api.rooms.schemas import StatusResponse
from api.tracks.endpoints import track_response

router = APIRouter(prefix="/rooms", tags=["queue"])


def entry_response(entry: QueueEntry) -> QueueEntryResponse:
    """Needs ``track`` with its artists and genres, and ``adder``, loaded."""
    adder = entry.adder
    return QueueEntryResponse(
        association_id=entry.id,
        room_id=entry.room_id,
        track=track_response(entry.track),
        added_by=entry.added_by,
        added_by_user=QueueEntryAdder(
            id=adder.id,
            display_name=adder.display_name,
            avatar_url=adder.avatar_url,
            is_demo=adder.is_demo,
        )
        if adder is not None
        else None,
        position=entry.position,
        status=entry.status,
        added_at=entry.added_at,
    )


@router.get("/{room_id}/queue", responses=error_responses(Unauthorized, Forbidden, NotFound))
async def list_queue(
    room_id: uuid.UUID, user: OptionalUser, session: SessionDep, redis: RedisDep
) -> list[QueueEntryResponse]:
    """The upcoming queue: the playing entry first, then the queued ones in play order."""
    entries = await queue_service.list_upcoming(session, user, room_id, redis=redis)
    return [entry_response(entry) for entry in entries]


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
    return entry_response(entry)


@router.get(
    "/{room_id}/queue/{association_id}",
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def get_queue_entry(
    room_id: uuid.UUID, association_id: uuid.UUID, user: OptionalUser, session: SessionDep
) -> QueueEntryResponse:
    """One entry of the room's queue, whatever its status."""
    return entry_response(await queue_service.get_entry(session, user, room_id, association_id))


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
    return [entry_response(entry) for entry in entries]
