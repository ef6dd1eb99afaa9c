from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.genres.schemas import GenreResponse
from api.genres.service import genres_service

# Open router: the vocabulary is public.
router = APIRouter(prefix="/genres", tags=["genres"])


@router.get("")
async def list_genres(session: SessionDep) -> list[GenreResponse]:
    """The genre vocabulary rooms and profiles choose from, with catalog track counts."""
    rows = await genres_service.list_genres(session)
    return [GenreResponse(slug=slug, name=name, track_count=count) for slug, name, count in rows]
