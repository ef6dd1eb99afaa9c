from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Spotify ids are base62, always 22 characters.
SPOTIFY_ID_PATTERN = r"^[0-9A-Za-z]{22}$"
# A day: longer "tracks" are mixes or broken metadata, and it stays far inside an integer.
MAX_DURATION_MS = 24 * 60 * 60 * 1000
MAX_ARTISTS = 20
MAX_TRACK_GENRES = 10


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 instead of a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


SpotifyId = Annotated[str, StringConstraints(pattern=SPOTIFY_ID_PATTERN)]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=512),
    AfterValidator(_no_nul),
]
ArtistName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_no_nul),
]
Album = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=512), AfterValidator(_no_nul)
]
ImageUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://[^\s\x00]+$")]
GenreName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_no_nul),
]


class TrackCreate(BaseModel):
    """A track as a provider describes it; artists in credit order, genres from GET /genres."""

    model_config = ConfigDict(extra="forbid")

    spotify_id: SpotifyId
    title: Title
    artists: list[ArtistName] = Field(min_length=1, max_length=MAX_ARTISTS)
    album: Album | None = None
    duration_ms: int = Field(ge=1, le=MAX_DURATION_MS, strict=True)
    image_url: ImageUrl | None = None
    genres: list[GenreName] = Field(default_factory=list, max_length=MAX_TRACK_GENRES)


class TrackBase(BaseModel):
    spotify_id: str
    title: str
    artists: list[str]
    album: str | None
    duration_ms: int
    image_url: str | None
    genres: list[str]
