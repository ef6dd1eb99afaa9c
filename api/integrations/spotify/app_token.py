"""The app's Client Credentials token, cached in Redis and shared by every process.

Search and catalog lookups both call Spotify as the app; one token serves them all until
shortly before it expires, instead of a token request per call.
"""

from __future__ import annotations

from redis.asyncio import Redis

from api.integrations.spotify.client import SpotifyClient

APP_TOKEN_KEY = "tunewave:spotify:app-token"  # noqa: S105 (a key name)
# Refreshed this long before Spotify's expiry, so no request leaves with a dying token.
APP_TOKEN_MARGIN_S = 60


async def app_access_token(redis: Redis, client: SpotifyClient) -> str:
    """A valid app token; raises the client's errors when Spotify will not grant one."""
    cached = await redis.get(APP_TOKEN_KEY)
    if cached:
        return str(cached)
    tokens = await client.client_credentials()
    ttl_s = tokens.expires_in_s - APP_TOKEN_MARGIN_S
    if ttl_s > 0:
        await redis.set(APP_TOKEN_KEY, tokens.access_token, ex=ttl_s)
    return tokens.access_token


async def forget_app_token(redis: Redis) -> None:
    """Spotify refused the cached token (rotated credentials): the next call fetches anew."""
    await redis.delete(APP_TOKEN_KEY)
