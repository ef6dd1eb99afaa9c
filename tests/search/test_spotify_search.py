"""Search through Spotify (the fake on loopback), and every way of falling back to the catalog."""

from __future__ import annotations

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.integrations.spotify.app_token import APP_TOKEN_KEY
from api.search.service import BACKOFF_KEY, UNAVAILABLE_BACKOFF_S
from tests.factories import auth_headers, create_identity, create_user
from tests.fakes.spotify import FakeSpotify
from tests.search.conftest import AddTracks

PUBLIC = "/spotify-public/search/tracks"
SIGNED_IN = "/spotify/search/tracks"


@pytest.fixture
async def both(fake_spotify: FakeSpotify, add_tracks: AddTracks) -> None:
    """The same song at Spotify and in the catalog, with different ids to tell them apart."""
    fake_spotify.add_search_track("sp-yellow", "Yellow", "Coldplay", popularity=88)
    fake_spotify.add_search_track("sp-fix", "Fix You", "Coldplay")
    await add_tracks(("cat-yellow", "Yellow", "Coldplay", "Parachutes", 70))


async def get(
    client: httpx.AsyncClient,
    path: str,
    query: str,
    *,
    headers: dict[str, str] | None = None,
    **params: int | str,
) -> dict:
    response = await client.get(path, params={"query": query, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict) -> list[str]:
    return [item["id"] for item in body["tracks"]["items"]]


@pytest.mark.usefixtures("both")
async def test_public_search_uses_an_app_token_cached_in_redis(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify, redis: Redis
) -> None:
    body = await get(spotify_client, PUBLIC, "coldplay yellow", limit=5)
    assert body["source"] == "spotify"
    assert body["fallback_reason"] is None
    assert ids(body) == ["sp-yellow"]
    track = body["tracks"]["items"][0]
    assert track["artists"][0]["name"] == "Coldplay"
    assert track["artists"][0]["id"]
    assert track["album"]["images"][0]["url"]
    assert track["genres"] == []
    assert body["tracks"]["total"] == 1
    assert fake_spotify.searches[-1] == {
        "token": "app",
        "q": "coldplay yellow",
        "type": "track",
        "limit": "5",
        "offset": "0",
    }
    assert await redis.ttl(APP_TOKEN_KEY) > 3000

    await get(spotify_client, PUBLIC, "coldplay")
    assert fake_spotify.token_calls("client_credentials") == 1
    assert len(fake_spotify.searches) == 2


async def test_not_configured_answers_from_the_catalog(
    client: httpx.AsyncClient, add_tracks: AddTracks
) -> None:
    await add_tracks(("cat-yellow", "Yellow", "Coldplay"))
    body = await get(client, PUBLIC, "yellow")
    assert (body["source"], body["fallback_reason"]) == ("catalog", "not_configured")
    assert ids(body) == ["cat-yellow"]


@pytest.mark.usefixtures("both")
@pytest.mark.parametrize("path", ["/v1/search", "/api/token"])
async def test_server_error_falls_back_and_pauses_spotify(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify, redis: Redis, path: str
) -> None:
    fake_spotify.fail(path, 503, times=1)
    body = await get(spotify_client, PUBLIC, "yellow")
    assert (body["source"], body["fallback_reason"]) == ("catalog", "unavailable")
    assert ids(body) == ["cat-yellow"]
    assert 0 < await redis.ttl(BACKOFF_KEY) <= UNAVAILABLE_BACKOFF_S

    # Spotify is fine again, but searches leave it alone until the pause ends.
    calls = len(fake_spotify.requests)
    body = await get(spotify_client, PUBLIC, "yellow")
    assert body["fallback_reason"] == "unavailable"
    assert len(fake_spotify.requests) == calls

    await redis.delete(BACKOFF_KEY)
    assert (await get(spotify_client, PUBLIC, "yellow"))["source"] == "spotify"


@pytest.mark.usefixtures("both")
async def test_a_hanging_spotify_times_out_into_the_catalog(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify
) -> None:
    fake_spotify.hang("/v1/search")
    body = await get(spotify_client, PUBLIC, "yellow")
    assert (body["source"], body["fallback_reason"]) == ("catalog", "unavailable")
    assert ids(body) == ["cat-yellow"]


@pytest.mark.usefixtures("both")
async def test_malformed_answer_falls_back(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify
) -> None:
    # A track without album, duration or uri is a broken answer, not a 500.
    fake_spotify.searchable[:] = [
        {"name": "Yellow", "artists": [{"name": "Coldplay"}], "id": "sp-broken"}
    ]
    body = await get(spotify_client, PUBLIC, "yellow")
    assert (body["source"], body["fallback_reason"]) == ("catalog", "unavailable")
    assert ids(body) == ["cat-yellow"]


@pytest.mark.usefixtures("both")
async def test_rate_limit_is_honoured_until_retry_after(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify, redis: Redis
) -> None:
    fake_spotify.fail("/v1/search", 429, retry_after_s=120)
    body = await get(spotify_client, PUBLIC, "yellow")
    assert (body["source"], body["fallback_reason"]) == ("catalog", "rate_limited")
    assert 100 < await redis.ttl(BACKOFF_KEY) <= 120

    searches = fake_spotify.requests.count(("GET", "/v1/search"))
    fake_spotify.faults.clear()
    body = await get(spotify_client, PUBLIC, "yellow")
    assert (body["source"], body["fallback_reason"]) == ("catalog", "rate_limited")
    assert fake_spotify.requests.count(("GET", "/v1/search")) == searches

    # Once the Retry-After window is over, Spotify is asked again.
    await redis.delete(BACKOFF_KEY)
    assert (await get(spotify_client, PUBLIC, "yellow"))["source"] == "spotify"


@pytest.mark.usefixtures("both")
async def test_signed_in_search_uses_the_users_token(
    spotify_client: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    settings: Settings,
) -> None:
    fake_spotify.add_user("sp-alice")
    access = fake_spotify.grant_access_token("sp-alice")
    user = await create_user(session, display_name="alice")
    await create_identity(session, user, settings, subject="sp-alice", access_token=access)
    await session.commit()

    body = await get(spotify_client, SIGNED_IN, "fix", headers=auth_headers(settings, user))
    assert (body["source"], ids(body)) == ("spotify", ["sp-fix"])
    assert fake_spotify.searches[-1]["token"] == "sp-alice"
    assert fake_spotify.token_calls() == 0


@pytest.mark.usefixtures("both")
async def test_signed_in_without_a_link_searches_like_the_public_endpoint(
    spotify_client: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    settings: Settings,
) -> None:
    user = await create_user(session, display_name="bob")
    await session.commit()
    body = await get(spotify_client, SIGNED_IN, "fix", headers=auth_headers(settings, user))
    assert (body["source"], ids(body)) == ("spotify", ["sp-fix"])
    assert fake_spotify.searches[-1]["token"] == "app"


async def test_signed_in_without_spotify_configured_uses_the_catalog(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, add_tracks: AddTracks
) -> None:
    await add_tracks(("cat-yellow", "Yellow", "Coldplay"))
    user = await create_user(session, display_name="carol")
    await session.commit()
    body = await get(client, SIGNED_IN, "yellow", headers=auth_headers(settings, user))
    assert (body["source"], body["fallback_reason"]) == ("catalog", "not_configured")
    assert ids(body) == ["cat-yellow"]


async def test_signed_in_search_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get(SIGNED_IN, params={"query": "yellow"})
    assert response.status_code == 401
    assert response.json() == {"detail": "not authenticated", "code": "not_authenticated"}
