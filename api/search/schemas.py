"""Track search results in Spotify's own search shape, whichever source answered."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from starlette.datastructures import URL

    from api.search.service import SearchResult

# The largest offset a search accepts; no next page points past it.
MAX_OFFSET = 1000


class SearchSource(StrEnum):
    spotify = "spotify"
    catalog = "catalog"


class FallbackReason(StrEnum):
    """Why the local catalog answered instead of Spotify."""

    not_configured = "not_configured"
    unavailable = "unavailable"
    rate_limited = "rate_limited"


class SpotifyImage(BaseModel):
    url: str
    height: int | None = None
    width: int | None = None


class SpotifyArtistRef(BaseModel):
    # Catalog artists may have no Spotify id: then id and uri are null.
    id: str | None
    name: str
    type: str = "artist"
    uri: str | None


class SpotifyAlbum(BaseModel):
    id: str | None = None
    name: str | None
    images: list[SpotifyImage]
    release_date: str | None
    type: str = "album"


class SpotifyTrack(BaseModel):
    id: str = Field(description="Spotify track id; what the queue takes as spotify_id")
    name: str
    artists: list[SpotifyArtistRef]
    album: SpotifyAlbum
    duration_ms: int
    popularity: int | None
    explicit: bool | None = None
    uri: str
    href: str | None
    external_urls: dict[str, str]
    preview_url: str | None = None
    type: str = "track"
    genres: list[str] = Field(
        default_factory=list, description="genre slugs (catalog results only)"
    )


class SpotifyTrackPage(BaseModel):
    href: str | None
    items: list[SpotifyTrack]
    limit: int
    next: str | None
    offset: int
    previous: str | None
    total: int = Field(description="matches; the catalog counts at most 1000")


class TrackSearchResponse(BaseModel):
    tracks: SpotifyTrackPage
    source: SearchSource
    fallback_reason: FallbackReason | None = None

    @classmethod
    def from_result(
        cls, result: SearchResult, url: URL, *, limit: int, offset: int
    ) -> TrackSearchResponse:
        """Spotify's page shape; ``next``/``previous`` point back at this API (``url``, the
        request's), not at Spotify."""
        next_offset = offset + limit
        has_next = next_offset < result.total and next_offset <= MAX_OFFSET
        return cls(
            tracks=SpotifyTrackPage(
                href=str(url),
                items=result.items,
                limit=limit,
                offset=offset,
                total=result.total,
                next=str(url.include_query_params(offset=next_offset)) if has_next else None,
                previous=str(url.include_query_params(offset=max(0, offset - limit)))
                if offset > 0
                else None,
            ),
            source=result.source,
            fallback_reason=result.fallback_reason,
        )
