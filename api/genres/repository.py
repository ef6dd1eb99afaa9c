from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.genres.vocabulary import genre_display_name
from api.models import Genre, TrackGenre


class GenresRepository:
    async def ensure(self, session: AsyncSession, slugs: Collection[str]) -> dict[str, int]:
        """Create missing genres; return slug -> id for all of ``slugs``."""
        if not slugs:
            return {}
        rows = [{"slug": slug, "name": genre_display_name(slug)} for slug in sorted(set(slugs))]
        await session.execute(
            insert(Genre).values(rows).on_conflict_do_nothing(index_elements=[Genre.slug])
        )
        result = await session.execute(select(Genre.slug, Genre.id).where(Genre.slug.in_(slugs)))
        return {slug: genre_id for slug, genre_id in result}

    async def get_by_slugs(self, session: AsyncSession, slugs: Collection[str]) -> list[Genre]:
        if not slugs:
            return []
        result = await session.scalars(select(Genre).where(Genre.slug.in_(slugs)))
        return list(result)

    async def list_with_track_counts(self, session: AsyncSession) -> list[tuple[Genre, int]]:
        track_count = (
            select(func.count())
            .where(TrackGenre.genre_id == Genre.id)
            .correlate(Genre)
            .scalar_subquery()
        )
        result = await session.execute(select(Genre, track_count).order_by(Genre.name))
        return [(genre, count) for genre, count in result]


genres_repository = GenresRepository()
