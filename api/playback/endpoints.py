from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.core.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unprocessable,
    error_responses,
)
from api.deps import CurrentUser, OptionalUser, RedisDep, SessionDep, SettingsDep
from api.playback.schemas import PlaybackCommand, PlaybackStateResponse
from api.playback.service import playback_service

router = APIRouter(prefix="/rooms", tags=["playback"])


@router.get("/{room_id}/playback", responses=error_responses(Unauthorized, Forbidden, NotFound))
async def get_playback(
    room_id: uuid.UUID, user: OptionalUser, session: SessionDep, redis: RedisDep
) -> PlaybackStateResponse:
    """What the room plays now and where (private rooms: members only)."""
    state = await playback_service.get_for(session, redis, user, room_id)
    return PlaybackStateResponse.model_validate(state.wire())


@router.post(
    "/{room_id}/playback",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, Unprocessable),
)
async def control_playback(
    room_id: uuid.UUID,
    data: PlaybackCommand,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> PlaybackStateResponse:
    """Play, pause, seek or skip (the owner and DJs); the same as the live channel's commands."""
    state = await playback_service.command(
        session,
        redis,
        settings,
        user,
        room_id,
        data.action,
        position_ms=data.position_ms,
        expected_version=data.version,
    )
    return PlaybackStateResponse.model_validate(state.wire())
