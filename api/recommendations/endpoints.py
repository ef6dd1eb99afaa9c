from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.core.exceptions import Forbidden, NotFound, Unauthorized, Unprocessable, error_responses
from api.core.redis import with_cache_fallback
from api.deps import CurrentUser, RedisDep, SessionDep
from api.recommendations import groups
from api.recommendations.schemas import (
    GroupStrategy,
    PersonRecommendations,
    RoomRecommendations,
    RoomTrackRecommendations,
    TrackRecommendations,
)
from api.recommendations.service import recommendations_service

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

Limit = Annotated[int, Query(ge=1, le=50)]


@router.get("/tracks", responses=error_responses(Unauthorized, Unprocessable))
async def recommend_tracks(
    user: CurrentUser, session: SessionDep, redis: RedisDep, limit: Limit = 10
) -> TrackRecommendations:
    """Tracks for the signed-in listener, each with a reason."""
    items, version = await with_cache_fallback(
        redis, lambda r: recommendations_service.tracks(session, r, user.id, limit)
    )
    return TrackRecommendations(items=items, model_version=version)


@router.get("/users", responses=error_responses(Unauthorized, Unprocessable))
async def recommend_people(
    user: CurrentUser, session: SessionDep, redis: RedisDep, limit: Limit = 10
) -> PersonRecommendations:
    """Listeners with a taste close to the signed-in listener's, each with a reason."""
    items, version = await with_cache_fallback(
        redis, lambda r: recommendations_service.people(session, r, user.id, limit)
    )
    return PersonRecommendations(items=items, model_version=version)


@router.get("/rooms", responses=error_responses(Unauthorized, Unprocessable))
async def recommend_rooms(
    user: CurrentUser, session: SessionDep, redis: RedisDep, limit: Limit = 10
) -> RoomRecommendations:
    """Live rooms for the signed-in listener, each with a reason."""
    items, version = await with_cache_fallback(
        redis, lambda r: recommendations_service.rooms(session, r, user.id, limit)
    )
    return RoomRecommendations(items=items, model_version=version)


@router.get(
    "/rooms/{room_id}/tracks",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Unprocessable),
)
async def recommend_room_tracks(
    room_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    limit: Limit = 10,
    strategy: GroupStrategy = "blend",
) -> RoomTrackRecommendations:
    """Tracks for the people in a room now (else its members), their tastes combined: what
    the room's auto-DJ plays next. ``strategy``: average, least_misery or blend."""
    return await groups.room_tracks(session, redis, room_id, user, limit, strategy)
