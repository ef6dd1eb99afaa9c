"""The Spotify provider client (accounts service and Web API)."""

from api.integrations.spotify.client import (
    SpotifyClient,
    SpotifyError,
    SpotifyGrantRejected,
    SpotifyProfile,
    SpotifyRateLimited,
    SpotifyTokens,
    SpotifyUnauthorized,
    SpotifyUnavailable,
)

__all__ = [
    "SpotifyClient",
    "SpotifyError",
    "SpotifyGrantRejected",
    "SpotifyProfile",
    "SpotifyRateLimited",
    "SpotifyTokens",
    "SpotifyUnauthorized",
    "SpotifyUnavailable",
]
