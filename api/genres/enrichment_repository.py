"""Queries of genre enrichment: which artists and tracks still lack genres, and the fills."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Artist, ArtistGenre

# An artist's local genres: the genres most of its catalog tracks carry (at most three).
_ARTISTS_FROM_TRACKS = text(
    """
    INSERT INTO artist_genres (artist_id, genre_id)
    SELECT artist_id, genre_id FROM (
        SELECT ta.artist_id, tg.genre_id,
               row_number() OVER (
                   PARTITION BY ta.artist_id ORDER BY count(*) DESC, tg.genre_id
               ) AS rank
        FROM track_artists ta
        JOIN track_genres tg ON tg.track_id = ta.track_id
        WHERE NOT EXISTS (SELECT 1 FROM artist_genres ag WHERE ag.artist_id = ta.artist_id)
        GROUP BY ta.artist_id, tg.genre_id
    ) ranked
    WHERE rank <= 3
    ON CONFLICT DO NOTHING
    """
)

# A track without genres takes its artists' genres.
_TRACKS_FROM_ARTISTS = text(
    """
    WITH bare AS (
        SELECT t.id FROM tracks t
        WHERE NOT EXISTS (SELECT 1 FROM track_genres tg WHERE tg.track_id = t.id)
    ), filled AS (
        INSERT INTO track_genres (track_id, genre_id)
        SELECT DISTINCT ta.track_id, ag.genre_id
        FROM bare
        JOIN track_artists ta ON ta.track_id = bare.id
        JOIN artist_genres ag ON ag.artist_id = ta.artist_id
        ON CONFLICT DO NOTHING
        RETURNING track_id
    )
    UPDATE tracks SET genres_checked_at = now()
    WHERE id IN (SELECT id FROM bare)
    RETURNING id, id IN (SELECT track_id FROM filled)
    """
)


class EnrichmentRepository:
    async def artists_to_look_up(
        self, session: AsyncSession, limit: int
    ) -> list[tuple[uuid.UUID, str]]:
        """(id, Spotify id) of artists the provider was never asked about, oldest first."""
        result = await session.execute(
            select(Artist.id, Artist.spotify_id)
            .where(Artist.spotify_id.is_not(None), Artist.genres_checked_at.is_(None))
            .order_by(Artist.created_at, Artist.id)
            .limit(limit)
        )
        return [(artist_id, str(spotify_id)) for artist_id, spotify_id in result.all()]

    async def add_artist_genres(
        self, session: AsyncSession, rows: Sequence[tuple[uuid.UUID, int]]
    ) -> None:
        if rows:
            await session.execute(
                insert(ArtistGenre)
                .values([{"artist_id": a, "genre_id": g} for a, g in rows])
                .on_conflict_do_nothing()
            )

    async def mark_artists_checked(
        self, session: AsyncSession, artist_ids: Sequence[uuid.UUID]
    ) -> None:
        if artist_ids:
            await session.execute(
                update(Artist)
                .where(Artist.id.in_(artist_ids))
                .values(genres_checked_at=func.now())
                .execution_options(synchronize_session=False)
            )

    async def fill_artists_from_catalog(self, session: AsyncSession) -> int:
        result = await session.execute(_ARTISTS_FROM_TRACKS)
        return int(getattr(result, "rowcount", 0) or 0)

    async def fill_tracks_from_artists(self, session: AsyncSession) -> tuple[int, int]:
        """(tracks looked at, tracks that got genres)."""
        rows = (await session.execute(_TRACKS_FROM_ARTISTS)).all()
        return len(rows), sum(1 for _, filled in rows if filled)


enrichment_repository = EnrichmentRepository()
