"""Track search: Spotify when it can answer, the local catalog whenever it cannot.

Search never fails because Spotify does: not configured, unreachable, slow, 5xx or 429 all
answer from the catalog and say why (``fallback_reason``). See docs/search.md.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.service import auth_service
from api.core.cache import CATALOG, ReadCache, cache_field
from api.core.config import Settings
from api.integrations.spotify import (
    SpotifyClient,
    SpotifyError,
    SpotifyRateLimited,
    SpotifyUnauthorized,
)
from api.integrations.spotify.app_token import app_access_token, forget_app_token
from api.search.repository import CatalogHit, prefix_tsquery, search_repository
from api.search.schemas import (
    FallbackReason,
    SearchSource,
    SpotifyAlbum,
    SpotifyArtistRef,
    SpotifyImage,
    SpotifyTrack,
)

logger = logging.getLogger(__name__)

# Shared by every API process: one app token, one back-off, whoever learned it first.
BACKOFF_KEY = "tunewave:spotify:search-backoff"
# Renew the app token this long before Spotify says it expires.
# People are waiting on search as they type: better the catalog now than Spotify in 10 s.
SEARCH_TIMEOUT_S = 3.0
# After a timeout or a 5xx, leave Spotify alone briefly so every search does not wait again.
UNAVAILABLE_BACKOFF_S = 10


class _SpotifyTracks(BaseModel):
    """The part of Spotify's answer we rely on; anything else malformed means unavailable."""

    # Spotify's search answers sometimes hold null items; they are dropped.
    items: list[SpotifyTrack | None]
    total: int


class _SpotifyAnswer(BaseModel):
    tracks: _SpotifyTracks


class _CatalogPage(BaseModel):
    """A catalog search page as the read cache keeps it."""

    items: list[SpotifyTrack]
    total: int


@dataclass(frozen=True)
class SearchResult:
    items: list[SpotifyTrack]
    total: int
    source: SearchSource
    fallback_reason: FallbackReason | None = None


class _Fallback(Exception):
    def __init__(self, reason: FallbackReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class SearchService:
    async def public_search(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        query: str,
        *,
        limit: int,
        offset: int,
    ) -> SearchResult:
        """Spotify with the app's own token (Client Credentials), else the catalog."""
        try:
            client = await self._spotify_client(redis, settings, needs_secret=True)
            return await self._search_with_app_token(redis, client, query, limit, offset)
        except _Fallback as fallback:
            return await self.catalog_search(
                session, redis, query, limit=limit, offset=offset, reason=fallback.reason
            )

    async def user_search(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        user_id: uuid.UUID,
        query: str,
        *,
        limit: int,
        offset: int,
    ) -> SearchResult:
        """Spotify with the user's token; without a usable link, exactly the public search."""
        try:
            client = await self._spotify_client(redis, settings, needs_secret=False)
            try:
                token = await auth_service.spotify_access_token(
                    session, settings, user_id, client=client
                )
            except (SpotifyError, SpotifyRateLimited) as exc:
                raise await self._fallback_for(redis, exc) from exc
            if token is not None:
                try:
                    return await self._spotify_search(redis, client, token, query, limit, offset)
                except SpotifyUnauthorized:
                    # Revoked at Spotify since the last refresh: the app token still searches.
                    logger.info("spotify refused a user token; searching with the app token")
            if settings.spotify_client_secret is None:
                raise _Fallback(FallbackReason.not_configured)
            return await self._search_with_app_token(redis, client, query, limit, offset)
        except _Fallback as fallback:
            return await self.catalog_search(
                session, redis, query, limit=limit, offset=offset, reason=fallback.reason
            )

    async def catalog_search(
        self,
        session: AsyncSession,
        redis: Redis,
        query: str,
        *,
        limit: int,
        offset: int,
        reason: FallbackReason | None = None,
    ) -> SearchResult:
        tsquery = prefix_tsquery(query)
        if tsquery is None:
            return SearchResult([], 0, SearchSource.catalog, reason)

        async def compute() -> str:
            page = await search_repository.search_catalog(
                session, tsquery, limit=limit, offset=offset
            )
            hits = [catalog_track(hit) for hit in page.hits]
            return _CatalogPage(items=hits, total=page.total).model_dump_json()

        # The catalog changes only by imports and new tracks, which invalidate CATALOG: the
        # same words answer from the read cache until then (see api/core/cache.py).
        field = cache_field(q=tsquery, limit=limit, offset=offset)
        cached = await ReadCache(redis).get_or_compute(CATALOG, field, compute)
        page = _CatalogPage.model_validate_json(cached)
        return SearchResult(page.items, page.total, SearchSource.catalog, reason)

    # --- Spotify ------------------------------------------------------------------------------

    async def _spotify_client(
        self, redis: Redis, settings: Settings, *, needs_secret: bool
    ) -> SpotifyClient:
        if not settings.spotify_client_id or (
            needs_secret and settings.spotify_client_secret is None
        ):
            raise _Fallback(FallbackReason.not_configured)
        backoff = await redis.get(BACKOFF_KEY)
        if backoff is not None:
            reason = FallbackReason.rate_limited
            if str(backoff) != reason.value:
                reason = FallbackReason.unavailable
            raise _Fallback(reason)
        return SpotifyClient(settings, timeout_s=min(settings.http_timeout_s, SEARCH_TIMEOUT_S))

    async def _search_with_app_token(
        self, redis: Redis, client: SpotifyClient, query: str, limit: int, offset: int
    ) -> SearchResult:
        token = await self._app_token(redis, client)
        try:
            return await self._spotify_search(redis, client, token, query, limit, offset)
        except SpotifyUnauthorized:
            # The cached token died early (rotated credentials): fetch a new one, once.
            await forget_app_token(redis)
            token = await self._app_token(redis, client)
            try:
                return await self._spotify_search(redis, client, token, query, limit, offset)
            except SpotifyUnauthorized as exc:
                raise await self._fallback_for(redis, exc) from exc

    async def _app_token(self, redis: Redis, client: SpotifyClient) -> str:
        try:
            return await app_access_token(redis, client)
        except (SpotifyError, SpotifyRateLimited) as exc:
            raise await self._fallback_for(redis, exc) from exc

    async def _spotify_search(
        self,
        redis: Redis,
        client: SpotifyClient,
        token: str,
        query: str,
        limit: int,
        offset: int,
    ) -> SearchResult:
        try:
            body = await client.search_tracks(token, query, limit=limit, offset=offset)
        except (SpotifyError, SpotifyRateLimited) as exc:
            raise await self._fallback_for(redis, exc) from exc
        try:
            answer = _SpotifyAnswer.model_validate(body)
        except ValidationError as exc:
            logger.warning("spotify search answer is malformed: %s", exc.error_count())
            raise _Fallback(FallbackReason.unavailable) from exc
        items: list[SpotifyTrack] = [i for i in answer.tracks.items if i is not None][:limit]
        return SearchResult(items, max(answer.tracks.total, 0), SearchSource.spotify)

    @staticmethod
    async def _fallback_for(redis: Redis, exc: Exception) -> _Fallback:
        """Remember the trouble so the next searches skip Spotify, and say which it was."""
        if isinstance(exc, SpotifyRateLimited):
            reason, backoff_s = FallbackReason.rate_limited, max(1, exc.retry_after_s)
        else:
            # Outages, and app credentials Spotify refuses: neither is fixed by asking again.
            reason, backoff_s = FallbackReason.unavailable, UNAVAILABLE_BACKOFF_S
        logger.warning("spotify search falls back to the catalog (%s): %s", reason.value, exc)
        await redis.set(BACKOFF_KEY, reason.value, ex=backoff_s)
        return _Fallback(reason)


def catalog_track(hit: CatalogHit) -> SpotifyTrack:
    """A catalog row in Spotify's track shape, so clients read both sources alike."""
    credits = hit.artists or [(name, None) for name in [hit.artist_names] if name]
    return SpotifyTrack(
        id=hit.spotify_id,
        name=hit.title,
        artists=[
            SpotifyArtistRef(
                id=spotify_id,
                name=name,
                uri=f"spotify:artist:{spotify_id}" if spotify_id else None,
            )
            for name, spotify_id in credits
        ],
        album=SpotifyAlbum(
            name=hit.album,
            images=[SpotifyImage(url=hit.image_url)] if hit.image_url else [],
            release_date=hit.release_date,
        ),
        duration_ms=hit.duration_ms,
        popularity=hit.popularity,
        uri=f"spotify:track:{hit.spotify_id}",
        href=None,
        external_urls={"spotify": f"https://open.spotify.com/track/{hit.spotify_id}"},
        genres=list(hit.genres),
    )


search_service = SearchService()
