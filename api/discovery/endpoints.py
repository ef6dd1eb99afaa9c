from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import TypeAdapter

from api.cached_reads import genre_page_key
from api.core.cache import ReadCache
from api.core.exceptions import NotFound, Unauthorized, error_responses
from api.core.json import JSONBytes
from api.core.redis import with_cache_fallback
from api.deps import CurrentUser, RedisDep, SessionDep, get_current_user
from api.discovery.schemas import GenrePage, GenresToExplore
from api.discovery.service import MAX_EXPLORE, discovery_service
from api.genres.vocabulary import genre_slug

# Unlike the vocabulary, a genre's page needs a signed-in listener: its people and their
# reasons come from listening history, which is not for anonymous visitors.
router = APIRouter(prefix="/genres", tags=["genres"], dependencies=[Depends(get_current_user)])
me_router = APIRouter(prefix="/users/me/genres", tags=["genres"])

_PAGE = TypeAdapter(GenrePage)


@router.get("/{slug}", response_model=GenrePage, responses=error_responses(Unauthorized, NotFound))
async def get_genre_page(
    session: SessionDep,
    redis: RedisDep,
    slug: Annotated[str, Path(min_length=1, max_length=64, description="genre slug")],
) -> Response:
    """A genre's page: rooms playing it, its top tracks and the people who love it."""

    async def compute() -> str:
        page = await with_cache_fallback(
            redis, lambda r: discovery_service.genre_page(session, r, slug)
        )
        return _PAGE.dump_json(page).decode()

    normalised = genre_slug(slug)
    if normalised is None:
        return JSONBytes(await compute())  # raises genre_not_found
    return JSONBytes(await ReadCache(redis).get_or_compute(*genre_page_key(normalised), compute))


@me_router.get("/explore", responses=error_responses(Unauthorized))
async def explore_genres(
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    k: Annotated[int, Query(ge=1, le=MAX_EXPLORE, description="how many genres")] = 5,
) -> GenresToExplore:
    """Genres next to the listener's taste that they have not played yet."""
    return await with_cache_fallback(
        redis, lambda r: discovery_service.explore(session, r, user.id, k)
    )
