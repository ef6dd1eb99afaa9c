from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core import ratelimit
from api.core.cache import CATALOG, invalidate_after_commit
from api.core.config import Settings
from api.core.exceptions import NotFound, Unprocessable
from api.genres.repository import genres_repository
from api.genres.service import genres_service
from api.integrations.spotify import (
    SpotifyClient,
    SpotifyError,
    SpotifyGrantRejected,
    SpotifyUnauthorized,
    SpotifyUnavailable,
)
from api.integrations.spotify.app_token import app_access_token, forget_app_token
from api.models import Track
from api.tracks.catalog import SPOTIFY_SONGS_PATH, CatalogTrack, read_spotify_songs
from api.tracks.repository import tracks_repository
from api.tracks.schemas import (
    MAX_ARTISTS,
    MAX_DURATION_MS,
    TrackCreate,
    is_spotify_image_url,
)

logger = logging.getLogger(__name__)

# Catalog artists have no provider id: the same name is the same artist, on every import.
_ARTIST_NAMESPACE = uuid.UUID("6f1c5a52-52a4-4d8e-9a55-0f7f5b0e2b1c")


def catalog_artist_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_ARTIST_NAMESPACE, name.casefold())


@dataclass(frozen=True, slots=True)
class PlayedTrack:
    """A track someone played on Spotify: our catalog fields (``spotify_track_fields``) and
    its credits as (name, Spotify artist id) in credit order."""

    fields: dict[str, Any]
    artists: list[tuple[str, str | None]]


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
        invalidate_after_commit(session, CATALOG)
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

    async def add_played(
        self, session: AsyncSession, played: Sequence[PlayedTrack]
    ) -> dict[str, uuid.UUID]:
        """Add the tracks and artists of Spotify plays the catalog lacks, in bulk (a known
        track is left as it is); returns spotify_id -> track id for every one."""
        tracks: dict[str, dict[str, Any]] = {}
        artists: dict[uuid.UUID, tuple[str, str | None]] = {}
        credits: dict[str, list[uuid.UUID]] = {}
        for track in played:
            fields = track.fields
            spotify_id = fields["spotify_id"]
            credited: dict[uuid.UUID, str] = {}
            for name, provider_id in track.artists:
                artist_id = catalog_artist_id(name)
                credited.setdefault(artist_id, name)
                artists.setdefault(artist_id, (name, provider_id))
            credits[spotify_id] = list(credited)
            tracks[spotify_id] = {
                "spotify_id": spotify_id,
                "title": fields["title"],
                "artist_names": ", ".join(credited.values()),
                "album": fields["album"],
                "duration_ms": fields["duration_ms"],
                "image_url": fields["image_url"],
                "popularity": fields["popularity"],
            }
        if artists:
            await tracks_repository.ensure_artists(
                session,
                [{"id": artist_id, "name": name} for artist_id, (name, _) in artists.items()],
            )
            await tracks_repository.claim_spotify_ids(
                session,
                {artist_id: spotify for artist_id, (_, spotify) in artists.items() if spotify},
            )
        track_ids = await tracks_repository.insert_missing(session, list(tracks.values()))
        links = [
            {"track_id": track_ids[spotify_id], "artist_id": artist_id, "position": position}
            for spotify_id, artist_ids in credits.items()
            for position, artist_id in enumerate(artist_ids)
        ]
        if links:
            await tracks_repository.link_artists(session, links)
        return track_ids

    async def ids_by_spotify_id(
        self, session: AsyncSession, spotify_ids: set[str]
    ) -> dict[str, tuple[uuid.UUID, int]]:
        """spotify_id -> (id, duration_ms) of the catalog tracks among ``spotify_ids``."""
        return await tracks_repository.ids_by_spotify_id(session, spotify_ids)

    async def count_tracks(self, session: AsyncSession) -> int:
        return await session.scalar(select(func.count()).select_from(Track)) or 0

    async def get(self, session: AsyncSession, spotify_id: str) -> Track:
        track = await tracks_repository.get_by_spotify_id(session, spotify_id)
        if track is None:
            raise NotFound("track not found", code="track_not_found")
        return track

    async def create(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        user_id: uuid.UUID,
        data: TrackCreate,
    ) -> tuple[Track, bool]:
        """Store a track unless its ``spotify_id`` is known; (track, True when created).

        A repost returns the stored track unchanged: any signed-in user may post, so a post
        never rewrites what others already see. Genres come from the vocabulary only. With
        Spotify configured, the stored metadata is Spotify's (the post only names the id);
        without it, the post's own metadata is stored, marked ``user_submitted``. New tracks
        count against ``TUNEWAVE_USER_TRACKS_PER_HOUR`` per user.
        """
        existing = await tracks_repository.get_by_spotify_id(session, data.spotify_id)
        if existing is not None:
            return existing, False
        await ratelimit.enforce(
            redis,
            f"tunewave:user-tracks:{user_id}",
            limit=settings.user_tracks_per_hour,
            window_s=3600,
            what="new catalog tracks",
        )
        genres = await genres_service.resolve(session, data.genres)
        genre_ids = [genre.id for genre in genres]
        fetched = await self._fetch_from_spotify(redis, settings, data.spotify_id)
        if fetched is not None:
            return await self.store(session, **{**fetched, "genre_ids": genre_ids})
        if settings.spotify_enabled and settings.spotify_client_secret is not None:
            raise Unprocessable("Spotify has no track with this spotify_id")
        return await self.store(
            session,
            spotify_id=data.spotify_id,
            title=data.title,
            artists=data.artists,
            album=data.album or None,
            duration_ms=data.duration_ms,
            image_url=data.image_url,
            genre_ids=genre_ids,
            user_submitted=True,
        )

    async def store(
        self,
        session: AsyncSession,
        *,
        spotify_id: str,
        title: str,
        artists: list[str],
        album: str | None,
        duration_ms: int,
        image_url: str | None,
        genre_ids: list[int],
        popularity: int | None = None,
        user_submitted: bool = False,
    ) -> tuple[Track, bool]:
        """Insert a track with its artists and genres; a concurrent insert of the same
        ``spotify_id`` wins quietly and its row is returned (created=False)."""
        # One artist per name, as the catalog import does; a name credited twice counts once.
        credited: dict[uuid.UUID, str] = {}
        for name in artists:
            credited.setdefault(catalog_artist_id(name), name)
        track_id = await tracks_repository.insert_if_absent(
            session,
            {
                "spotify_id": spotify_id,
                "title": title,
                "artist_names": ", ".join(credited.values()),
                "album": album,
                "duration_ms": duration_ms,
                "image_url": image_url,
                "popularity": popularity,
                "user_submitted": user_submitted,
            },
        )
        if track_id is not None:
            invalidate_after_commit(session, CATALOG)
            await tracks_repository.add_artists(session, list(credited.items()))
            await tracks_repository.link(session, track_id, list(credited), genre_ids)
        return await self.get(session, spotify_id), track_id is not None

    async def find_or_fetch(
        self, session: AsyncSession, redis: Redis, settings: Settings, spotify_id: str
    ) -> Track:
        """A track from the catalog, else from Spotify (then kept in the catalog); else 404."""
        track = await tracks_repository.get_by_spotify_id(session, spotify_id)
        if track is not None:
            return track
        fetched = await self._fetch_from_spotify(redis, settings, spotify_id)
        if fetched is None:
            raise NotFound("track not found", code="track_not_found")
        track, _ = await self.store(session, **fetched)
        return track

    async def _fetch_from_spotify(
        self, redis: Redis, settings: Settings, spotify_id: str
    ) -> dict[str, Any] | None:
        # Client Credentials need the secret; without it the catalog is all we have.
        if not settings.spotify_enabled or settings.spotify_client_secret is None:
            return None
        client = SpotifyClient(settings)
        try:
            token = await app_access_token(redis, client)
        except SpotifyGrantRejected as exc:
            raise SpotifyUnavailable("Spotify refused our app credentials") from exc
        try:
            body = await client.api_get(token, f"/tracks/{spotify_id}")
        except SpotifyUnauthorized as exc:
            # Our app token, not the caller's: a provider failure, never the caller's 401.
            await forget_app_token(redis)
            raise SpotifyUnavailable("Spotify refused our app token") from exc
        except SpotifyUnavailable:
            raise
        except SpotifyError:
            # Any other 4xx for a well-formed id: Spotify has no such track for us.
            return None
        return spotify_track_fields(spotify_id, body)


def _text(value: object, max_length: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()[:max_length]
    return text or None


def spotify_track_fields(spotify_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Our catalog fields from Spotify's track object; a malformed answer is a 502."""
    title = _text(body.get("name"), 512)
    raw_artists = body.get("artists")
    artists = [
        name
        for artist in (raw_artists if isinstance(raw_artists, list) else [])
        if isinstance(artist, dict) and (name := _text(artist.get("name"), 255))
    ][:MAX_ARTISTS]
    duration_ms = body.get("duration_ms")
    if (
        title is None
        or not artists
        or not isinstance(duration_ms, int)
        or isinstance(duration_ms, bool)
        or not 0 < duration_ms <= MAX_DURATION_MS
    ):
        raise SpotifyUnavailable("Spotify's track answer is malformed")
    raw_album = body.get("album")
    album: dict[str, Any] = raw_album if isinstance(raw_album, dict) else {}
    raw_images = album.get("images")
    images: list[Any] = raw_images if isinstance(raw_images, list) else []
    image_url = images[0].get("url") if images and isinstance(images[0], dict) else None
    popularity = body.get("popularity")
    return {
        "spotify_id": spotify_id,
        "title": title,
        "artists": artists,
        "album": _text(album.get("name"), 512),
        "duration_ms": duration_ms,
        "image_url": image_url
        if isinstance(image_url, str) and is_spotify_image_url(image_url)
        else None,
        # Spotify's tracks carry no genres (its artists do); the recommender fills them in.
        "genre_ids": [],
        "popularity": popularity
        if isinstance(popularity, int) and 0 <= popularity <= 100
        else None,
    }


tracks_service = TracksService()
