from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.genres.repository import genres_repository
from api.models import Track
from api.tracks.catalog import SPOTIFY_SONGS_PATH, CatalogTrack, read_spotify_songs
from api.tracks.repository import tracks_repository

logger = logging.getLogger(__name__)

# Catalog artists have no provider id: the same name is the same artist, on every import.
_ARTIST_NAMESPACE = uuid.UUID("6f1c5a52-52a4-4d8e-9a55-0f7f5b0e2b1c")


def catalog_artist_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_ARTIST_NAMESPACE, name.casefold())


@dataclass(frozen=True, slots=True)
class CatalogImportResult:
    tracks: int
    artists: int
    genres: int


class TracksService:
    async def import_catalog(
        self, session: AsyncSession, tracks: list[CatalogTrack]
    ) -> CatalogImportResult:
        """Load catalog tracks, their artists and genres; running it again changes nothing."""
        genre_ids = await genres_repository.ensure(
            session, {slug for track in tracks for slug in track.genres}
        )
        artists = {catalog_artist_id(track.artist): track.artist for track in tracks}
        await tracks_repository.ensure_artists(
            session, [{"id": artist_id, "name": name} for artist_id, name in artists.items()]
        )
        track_ids = await tracks_repository.upsert_tracks(
            session,
            [
                {
                    "spotify_id": track.spotify_id,
                    "title": track.title,
                    "artist_names": track.artist,
                    "album": track.album,
                    "duration_ms": track.duration_ms,
                    "popularity": track.popularity,
                    "release_date": track.release_date,
                }
                for track in tracks
            ],
        )
        await tracks_repository.link_artists(
            session,
            [
                {
                    "track_id": track_ids[track.spotify_id],
                    "artist_id": catalog_artist_id(track.artist),
                    "position": 0,
                }
                for track in tracks
            ],
        )
        await tracks_repository.link_genres(
            session,
            [
                {"track_id": track_ids[track.spotify_id], "genre_id": genre_ids[slug]}
                for track in tracks
                for slug in track.genres
            ],
        )
        return CatalogImportResult(
            tracks=len(track_ids), artists=len(artists), genres=len(genre_ids)
        )

    async def import_catalog_file(
        self, session: AsyncSession, path: Path = SPOTIFY_SONGS_PATH
    ) -> CatalogImportResult:
        result = await self.import_catalog(session, read_spotify_songs(path))
        logger.info(
            "catalog imported",
            extra={"tracks": result.tracks, "artists": result.artists, "genres": result.genres},
        )
        return result

    async def count_tracks(self, session: AsyncSession) -> int:
        return await session.scalar(select(func.count()).select_from(Track)) or 0


tracks_service = TracksService()
