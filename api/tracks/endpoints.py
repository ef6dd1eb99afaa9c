from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.core.exceptions import (
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UpstreamError,
    error_responses,
)
from api.deps import CurrentUser, RedisDep, SessionDep, SettingsDep
from api.tracks.schemas import SPOTIFY_ID_PATTERN, TrackBase, TrackCreate
from api.tracks.service import tracks_service

router = APIRouter(prefix="/track", tags=["tracks"])

SpotifyIdPath = Annotated[
    str, Path(pattern=SPOTIFY_ID_PATTERN, description="Spotify's base62 track id (22 chars)")
]


@router.get("/{spotify_id}", responses=error_responses(NotFound))
async def get_track(spotify_id: SpotifyIdPath, session: SessionDep) -> TrackBase:
    """A catalog track by its Spotify id."""
    return TrackBase.from_track(await tracks_service.get(session, spotify_id))


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {"model": TrackBase, "description": "The track already existed."},
        **error_responses(Unauthorized, Unprocessable, TooManyRequests, UpstreamError),
    },
)
async def create_track(
    data: TrackCreate,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    response: Response,
) -> TrackBase:
    """Add a track to the catalog; posting a known spotify_id returns the stored track."""
    track, created = await tracks_service.create(session, redis, settings, user.id, data)
    if not created:
        response.status_code = status.HTTP_200_OK
    return TrackBase.from_track(track)
