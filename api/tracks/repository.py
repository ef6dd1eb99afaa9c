from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.bulk import copy_insert
from api.models import Artist, Track, TrackArtist, TrackGenre

_REFRESHED_TRACK_COLUMNS = (
    "title",
    "artist_names",
    "album",
    "duration_ms",
    "popularity",
    "release_date",
)


class TracksRepository:
    async def get_by_spotify_id(self, session: AsyncSession, spotify_id: str) -> Track | None:
        return await session.scalar(
            select(Track)
            .where(Track.spotify_id == spotify_id)
            .options(selectinload(Track.artists), selectinload(Track.genres))
        )

    async def upsert_tracks(
        self, session: AsyncSession, rows: Sequence[dict[str, Any]]
    ) -> dict[str, uuid.UUID]:
        """Insert or refresh tracks keyed by ``spotify_id``; return spotify_id -> id."""
        if not rows:
            return {}
        columns = ("id", "spotify_id", *_REFRESHED_TRACK_COLUMNS)
        refreshed = ", ".join(f"{name} = EXCLUDED.{name}" for name in _REFRESHED_TRACK_COLUMNS)
        result = await copy_insert(
            session,
            Track.__table__,  # type: ignore[arg-type]
            columns,
            ([row.get("id") or uuid.uuid4(), *(row[name] for name in columns[1:])] for row in rows),
            on_conflict=f"ON CONFLICT (spotify_id) DO UPDATE SET {refreshed}, updated_at = now()",
            returning=("spotify_id", "id"),
        )
        return dict(result)  # type: ignore[arg-type]

    async def ensure_artists(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        await copy_insert(
            session,
            Artist.__table__,  # type: ignore[arg-type]
            ("id", "name"),
            ((row["id"], row["name"]) for row in rows),
        )

    async def link_artists(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        await copy_insert(
            session,
            TrackArtist.__table__,  # type: ignore[arg-type]
            ("track_id", "artist_id", "position"),
            ((row["track_id"], row["artist_id"], row["position"]) for row in rows),
        )

    async def link_genres(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        await copy_insert(
            session,
            TrackGenre.__table__,  # type: ignore[arg-type]
            ("track_id", "genre_id"),
            ((row["track_id"], row["genre_id"]) for row in rows),
        )

    async def insert_if_absent(
        self, session: AsyncSession, values: dict[str, Any]
    ) -> uuid.UUID | None:
        """Insert one track unless its ``spotify_id`` is taken; the new id, or None."""
        return await session.scalar(
            insert(Track)
            .values(values)
            .on_conflict_do_nothing(index_elements=[Track.spotify_id])
            .returning(Track.id)
        )

    async def add_artists(
        self, session: AsyncSession, artists: Sequence[tuple[uuid.UUID, str]]
    ) -> None:
        """Create artists that do not exist yet (keyed by id; an existing name is kept)."""
        await session.execute(
            insert(Artist)
            .values([{"id": artist_id, "name": name} for artist_id, name in artists])
            .on_conflict_do_nothing(index_elements=[Artist.id])
        )

    async def link(
        self,
        session: AsyncSession,
        track_id: uuid.UUID,
        artist_ids: Sequence[uuid.UUID],
        genre_ids: Sequence[int],
    ) -> None:
        await session.execute(
            insert(TrackArtist).values(
                [
                    {"track_id": track_id, "artist_id": artist_id, "position": position}
                    for position, artist_id in enumerate(artist_ids)
                ]
            )
        )
        if genre_ids:
            await session.execute(
                insert(TrackGenre).values(
                    [{"track_id": track_id, "genre_id": genre_id} for genre_id in genre_ids]
                )
            )


tracks_repository = TracksRepository()
