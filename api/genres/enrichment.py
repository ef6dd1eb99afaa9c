"""Genre enrichment: fill missing genres of artists and tracks, in one vocabulary.

1. The provider: artists with a Spotify id that were never looked up are fetched in batches of
   50 (``GET /artists?ids=``) with the app token; their genres go through ``genre_slug``, so
   "Hip-Hop" and "hip hop" land on one row. A rate limit stops this step (what was stored
   stays) and reports Spotify's Retry-After, so the task comes back when allowed.
2. The local catalog: an artist still without genres takes the genres most of its catalog
   tracks carry (the bundled catalog's playlist genre labels).
3. A track without genres takes its artists' genres.
See docs/history.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.genres.enrichment_repository import enrichment_repository
from api.genres.repository import genres_repository
from api.genres.vocabulary import genre_slug
from api.integrations.spotify.app_token import app_access_token, forget_app_token
from api.integrations.spotify.client import (
    SpotifyClient,
    SpotifyError,
    SpotifyRateLimited,
    SpotifyUnauthorized,
)

logger = logging.getLogger(__name__)

ARTIST_BATCH = 50  # Spotify's limit for GET /artists?ids=
MAX_ARTISTS_PER_RUN = 1000
MAX_GENRES_PER_ARTIST = 10


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    artists_looked_up: int = 0
    artists_from_provider: int = 0
    artists_from_catalog: int = 0
    tracks_filled: int = 0
    # Set when Spotify rate-limited us: come back after this many seconds.
    retry_after_s: int | None = None


class EnrichmentService:
    async def enrich(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        *,
        client: SpotifyClient | None = None,
        max_artists: int = MAX_ARTISTS_PER_RUN,
    ) -> EnrichmentResult:
        looked_up = from_provider = 0
        retry_after_s: int | None = None
        if settings.spotify_enabled and settings.spotify_client_secret is not None:
            looked_up, from_provider, retry_after_s = await self._from_provider(
                session, redis, client or SpotifyClient(settings), max_artists
            )
        from_catalog = await enrichment_repository.fill_artists_from_catalog(session)
        _, tracks_filled = await enrichment_repository.fill_tracks_from_artists(session)
        return EnrichmentResult(
            artists_looked_up=looked_up,
            artists_from_provider=from_provider,
            artists_from_catalog=from_catalog,
            tracks_filled=tracks_filled,
            retry_after_s=retry_after_s,
        )

    async def _from_provider(
        self, session: AsyncSession, redis: Redis, client: SpotifyClient, max_artists: int
    ) -> tuple[int, int, int | None]:
        pending = await enrichment_repository.artists_to_look_up(session, max_artists)
        looked_up = with_genres = 0
        for start in range(0, len(pending), ARTIST_BATCH):
            batch = pending[start : start + ARTIST_BATCH]
            try:
                token = await app_access_token(redis, client)
                body = await client.get_artists(token, [spotify_id for _, spotify_id in batch])
            except SpotifyRateLimited as exc:
                logger.info("Spotify rate-limits genre enrichment for %ss", exc.retry_after_s)
                return looked_up, with_genres, exc.retry_after_s
            except SpotifyUnauthorized:
                await forget_app_token(redis)
                logger.warning("Spotify refused the app token; enrichment continues locally")
                break
            except SpotifyError as exc:
                logger.warning(
                    "Spotify artist lookup failed (%s); enrichment continues locally", exc
                )
                break
            by_spotify_id: dict[str, list[str]] = {}
            artists = body.get("artists")
            for artist in artists if isinstance(artists, list) else []:
                if isinstance(artist, dict) and isinstance(artist.get("id"), str):
                    genres = artist.get("genres")
                    by_spotify_id[artist["id"]] = [
                        slug
                        for raw in (genres if isinstance(genres, list) else [])
                        if isinstance(raw, str) and (slug := genre_slug(raw))
                    ][:MAX_GENRES_PER_ARTIST]
            slug_ids = await genres_repository.ensure(
                session, {slug for slugs in by_spotify_id.values() for slug in slugs}
            )
            rows = [
                (artist_id, slug_ids[slug])
                for artist_id, spotify_id in batch
                for slug in by_spotify_id.get(spotify_id, [])
            ]
            await enrichment_repository.add_artist_genres(session, rows)
            # Asked once: an artist Spotify knows no genres for is left to the local step.
            await enrichment_repository.mark_artists_checked(session, [a for a, _ in batch])
            looked_up += len(batch)
            with_genres += len({artist_id for artist_id, _ in rows})
        return looked_up, with_genres, None


enrichment_service = EnrichmentService()
