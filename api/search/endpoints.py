from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.cached_reads import catalog_search_page_key, public_search_uses_spotify
from api.core.cache import ReadCache
from api.core.exceptions import Unauthorized, error_responses
from api.core.json import JSONBytes
from api.deps import CurrentUser, RedisDep, SessionDep, SettingsDep
from api.search.schemas import MAX_OFFSET, TrackSearchResponse
from api.search.service import search_service

# The seed's paths: the open search and the signed-in one live under different prefixes.
public_router = APIRouter(prefix="/spotify-public", tags=["search"])
router = APIRouter(prefix="/spotify", tags=["search"])

# At least one non-space character: a blank query is a 422, any other text a (maybe empty) page.
QueryParam = Annotated[
    str, Query(min_length=1, max_length=200, pattern=r"\S", description="words to search for")
]
LimitParam = Annotated[int, Query(ge=1, le=50)]
OffsetParam = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="index of the first result")]


@public_router.get("/search/tracks", response_model=TrackSearchResponse)
async def search_tracks_public(
    request: Request,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    query: QueryParam,
    limit: LimitParam = 10,
    offset: OffsetParam = 0,
) -> Response:
    """Search tracks on Spotify with the app's token, or in the local catalog as a fallback."""

    async def compute() -> str:
        result = await search_service.public_search(
            session, redis, settings, query.strip(), limit=limit, offset=offset
        )
        response = TrackSearchResponse.from_result(result, request.url, limit=limit, offset=offset)
        return response.model_dump_json(by_alias=True)

    if public_search_uses_spotify(settings):
        return JSONBytes(await compute())
    # Without Spotify the catalog answers every time: whole answers are cached until the
    # catalog changes (see api/cached_reads.py).
    key = catalog_search_page_key(request.url)
    return JSONBytes(await ReadCache(redis).get_or_compute(*key, compute))


@router.get("/search/tracks", responses=error_responses(Unauthorized))
async def search_tracks(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    query: QueryParam,
    limit: LimitParam = 10,
    offset: OffsetParam = 0,
) -> TrackSearchResponse:
    """Search tracks on Spotify as the signed-in user (public search without a Spotify link)."""
    result = await search_service.user_search(
        session, redis, settings, user.id, query.strip(), limit=limit, offset=offset
    )
    return TrackSearchResponse.from_result(result, request.url, limit=limit, offset=offset)
