"""Adding a track the catalog lacks: looked up at Spotify (app token) and kept in the catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis

from api.integrations.spotify.app_token import APP_TOKEN_KEY
from tests.conftest import asgi_client
from tests.factories import new_spotify_id
from tests.fakes.fixtures import spotify_settings
from tests.fakes.spotify import FakeSpotify
from tests.support.people import SignedIn, SignIn

SECRET = "fake-spotify-secret"


@pytest.fixture
async def spotify_client(
    make_app: Callable[..., FastAPI], fake_spotify: FakeSpotify
) -> AsyncIterator[httpx.AsyncClient]:
    fake_spotify.client_secret = SECRET
    app = make_app(
        **spotify_settings(fake_spotify),
        spotify_client_secret=SecretStr(SECRET),
        http_timeout_s=2.0,
    )
    async with asgi_client(app) as client:
        yield client


@pytest.fixture
async def room(spotify_client: httpx.AsyncClient, sign_in: SignIn) -> tuple[dict, SignedIn]:
    owner = await sign_in("owner")
    response = await spotify_client.post(
        "/rooms/", json={"name": "Provider Room"}, headers=owner.headers
    )
    assert response.status_code == 201
    return response.json(), owner


async def add(
    client: httpx.AsyncClient, room: tuple[dict, SignedIn], spotify_id: str
) -> httpx.Response:
    data, owner = room
    return await client.post(
        f"/rooms/{data['id']}/queue", json={"spotify_id": spotify_id}, headers=owner.headers
    )


async def test_a_track_found_at_spotify_is_queued_and_joins_the_catalog(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify, room: tuple[dict, SignedIn]
) -> None:
    spotify_id = new_spotify_id()
    fake_spotify.add_search_track(spotify_id, "Teardrop", "Massive Attack", album="Mezzanine")

    response = await add(spotify_client, room, spotify_id)

    assert response.status_code == 201, response.text
    expected_track = {
        "spotify_id": spotify_id,
        "title": "Teardrop",
        "artists": ["Massive Attack"],
        "album": "Mezzanine",
        "duration_ms": 200_000,
        "image_url": f"https://i.scdn.co/image/{spotify_id}",
        "genres": [],
    }
    assert response.json()["track"] == expected_track
    assert fake_spotify.token_calls("client_credentials") == 1
    stored = await spotify_client.get(f"/track/{spotify_id}")
    assert stored.json() == expected_track

    # Known now: another room's add needs no Spotify call.
    fake_spotify.requests.clear()
    _, owner = room
    other = await spotify_client.post("/rooms/", json={"name": "Second"}, headers=owner.headers)
    assert (await add(spotify_client, (other.json(), owner), spotify_id)).status_code == 201
    assert fake_spotify.requests == []


async def test_a_track_spotify_does_not_know_is_404(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify, room: tuple[dict, SignedIn]
) -> None:
    spotify_id = new_spotify_id()
    response = await add(spotify_client, room, spotify_id)
    assert response.status_code == 404
    assert ("GET", f"/v1/tracks/{spotify_id}") in fake_spotify.requests


async def test_spotify_failures_are_502_and_429_not_500(
    spotify_client: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    room: tuple[dict, SignedIn],
    redis: Redis,
) -> None:
    spotify_id = new_spotify_id()
    fake_spotify.add_search_track(spotify_id, "Angel", "Massive Attack")

    fake_spotify.fail(f"/v1/tracks/{spotify_id}", 500, times=1)
    assert (await add(spotify_client, room, spotify_id)).status_code == 502
    fake_spotify.fail(f"/v1/tracks/{spotify_id}", 429, times=1, retry_after_s=7)
    limited = await add(spotify_client, room, spotify_id)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    # Credentials refused when the cached app token has to be renewed.
    await redis.delete(APP_TOKEN_KEY)
    fake_spotify.fail("/api/token", 400, times=1)
    assert (await add(spotify_client, room, spotify_id)).status_code == 502
    # Nothing half-stored: the next try works.
    assert (await add(spotify_client, room, spotify_id)).status_code == 201


async def test_without_a_client_secret_spotify_is_not_asked(
    make_app: Callable[..., FastAPI],
    fake_spotify: FakeSpotify,
    sign_in: SignIn,
) -> None:
    app = make_app(**spotify_settings(fake_spotify))
    owner = await sign_in("owner")
    spotify_id = new_spotify_id()
    fake_spotify.add_search_track(spotify_id, "Unfinished Sympathy", "Massive Attack")
    async with asgi_client(app) as client:
        created = await client.post("/rooms/", json={"name": "No Secret"}, headers=owner.headers)
        response = await add(client, (created.json(), owner), spotify_id)
    assert response.status_code == 404
    assert fake_spotify.requests == []


async def test_lookups_share_one_cached_app_token(
    spotify_client: httpx.AsyncClient, fake_spotify: FakeSpotify, room: tuple[dict, SignedIn]
) -> None:
    for title in ("First", "Second", "Third"):
        spotify_id = new_spotify_id()
        fake_spotify.add_search_track(spotify_id, title, "Someone")
        assert (await add(spotify_client, room, spotify_id)).status_code == 201
    assert fake_spotify.token_calls("client_credentials") == 1
