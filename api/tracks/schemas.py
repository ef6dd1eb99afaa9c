from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from api.core.security_headers import SPOTIFY_IMAGE_HOSTS

if TYPE_CHECKING:
    from api.models import Track

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


def is_spotify_image_url(url: str) -> bool:
    """An https URL on one of Spotify's image hosts (the only images shown to others)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.hostname in SPOTIFY_IMAGE_HOSTS
        and parts.port is None
        and not parts.username
        and not parts.password
    )


def _spotify_image(url: str) -> str:
    # Every listener's browser loads a track's image: a URL of anyone's choosing would tell
    # its owner who listens, from where and when.
    if not is_spotify_image_url(url):
        raise ValueError(
            "image_url must be an https URL on Spotify's image hosts ("
            + ", ".join(SPOTIFY_IMAGE_HOSTS)
            + ")"
        )
    return url


ImageUrl = Annotated[
    str,
    StringConstraints(max_length=2048, pattern=r"^[^\s\x00]+$"),
    AfterValidator(_spotify_image),
]
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

    @classmethod
    def from_track(cls, track: Track) -> TrackBase:
        """Needs ``artists`` and ``genres`` loaded."""
        return cls(
            spotify_id=track.spotify_id,
            title=track.title,
            artists=[artist.name for artist in track.artists],
            album=track.album,
            duration_ms=track.duration_ms,
            image_url=track.image_url,
            genres=[genre.slug for genre in track.genres],
        )
