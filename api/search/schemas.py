"""Track search results in Spotify's own search shape, whichever source answered."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


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
