from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from api.exceptions import Unprocessable
from api.genres.repository import genres_repository
from api.genres.vocabulary import genre_slug
from api.models import Genre

MAX_GENRES_PER_OWNER = 10


class GenresService:
    async def list_genres(self, session: AsyncSession) -> list[tuple[Genre, int]]:
        return await genres_repository.list_with_track_counts(session)

    async def resolve(self, session: AsyncSession, names: Iterable[str]) -> list[Genre]:
        """Genres for names a person chose (a room's or a profile's), from the vocabulary only.

        Unknown names are a 422 naming them, so a typo never silently drops a genre.
        """
        slugs: list[str] = []
        for name in names:
            slug = genre_slug(name)
            if slug is None:
                raise Unprocessable(f"{name!r} is not a genre name", field="genres")
            if slug not in slugs:
                slugs.append(slug)
        if len(slugs) > MAX_GENRES_PER_OWNER:
            raise Unprocessable(
                f"at most {MAX_GENRES_PER_OWNER} genres", code="too_many_genres", field="genres"
            )
        found = {
            genre.slug: genre for genre in await genres_repository.get_by_slugs(session, slugs)
        }
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise Unprocessable(
                f"unknown genres: {', '.join(unknown)} (see GET /genres)",
                code="unknown_genre",
                field="genres",
            )
        return [found[slug] for slug in slugs]


genres_service = GenresService()
