from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.core.bulk import copy_insert
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
        """Create the ``{"id", "name"}`` artists that do not exist yet."""
        await copy_insert(
            session,
            Artist.__table__,  # type: ignore[arg-type]
            ("id", "name"),
            ((row["id"], row["name"]) for row in rows),
        )

    async def claim_spotify_ids(
        self, session: AsyncSession, spotify_ids: dict[uuid.UUID, str]
    ) -> None:
        """artist id -> Spotify artist id: a known artist without a provider id gets this
        one, unless another artist already holds it."""
        for artist_id, spotify_id in spotify_ids.items():
            taken = select(Artist.id).where(Artist.spotify_id == spotify_id).exists()
            await session.execute(
                update(Artist)
                .where(Artist.id == artist_id, Artist.spotify_id.is_(None), ~taken)
                .values(spotify_id=spotify_id)
                .execution_options(synchronize_session=False)
            )

    async def insert_missing(
        self, session: AsyncSession, rows: Sequence[dict[str, Any]]
    ) -> dict[str, uuid.UUID]:
        """Tracks unknown to the catalog are added (a known one is left as it is); returns
        spotify_id -> id for every row."""
        if not rows:
            return {}
        columns = (
            "id",
            "spotify_id",
            "title",
            "artist_names",
            "album",
            "duration_ms",
            "image_url",
            "popularity",
        )
        await copy_insert(
            session,
            Track.__table__,  # type: ignore[arg-type]
            columns,
            ([uuid.uuid4(), *(row[name] for name in columns[1:])] for row in rows),
            on_conflict="ON CONFLICT (spotify_id) DO NOTHING",
        )
        result = await session.execute(
            select(Track.spotify_id, Track.id).where(
                Track.spotify_id.in_([row["spotify_id"] for row in rows])
            )
        )
        return {spotify_id: track_id for spotify_id, track_id in result.all()}

    async def ids_by_spotify_id(
        self, session: AsyncSession, spotify_ids: set[str]
    ) -> dict[str, tuple[uuid.UUID, int]]:
        """spotify_id -> (id, duration_ms) of the catalog tracks among ``spotify_ids``."""
        if not spotify_ids:
            return {}
        result = await session.execute(
            select(Track.spotify_id, Track.id, Track.duration_ms).where(
                Track.spotify_id.in_(spotify_ids)
            )
        )
        return {spotify_id: (track_id, duration) for spotify_id, track_id, duration in result.all()}

    async def with_credits(
        self, session: AsyncSession, track_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Track]:
        """Tracks with artists and genres: three statements for any number of tracks."""
        if not track_ids:
            return {}
        result = await session.scalars(
            select(Track)
            .where(Track.id.in_(set(track_ids)))
            .options(selectinload(Track.artists), selectinload(Track.genres))
        )
        return {track.id: track for track in result}

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
