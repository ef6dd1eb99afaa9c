"""POST /track/: what a listener posts reaches other listeners only in safe forms (issue 12, 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.models import Track
from tests.conftest import asgi_client
from tests.factories import auth_headers, create_user, new_spotify_id
from tests.fakes.fixtures import fake_spotify, fake_spotify_server, spotify_settings
from tests.fakes.spotify import FakeSpotify

__all__ = ["fake_spotify", "fake_spotify_server"]

SECRET = "fake-spotify-secret"


@pytest.fixture
async def headers(session: AsyncSession, settings: Settings) -> dict[str, str]:
    user = await create_user(session)
    await session.commit()
    return auth_headers(settings, user)


def body(**fields: Any) -> dict[str, Any]:
    return {
        "spotify_id": new_spotify_id(),
        "title": "Posted by a listener",
        "artists": ["Someone"],
        "duration_ms": 180_000,
        **fields,
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://tracker.example/pixel.png",
        "http://i.scdn.co/image/abc",
        "https://i.scdn.co.evil.example/image/abc",
        "https://user@i.scdn.co/image/abc",
        "https://i.scdn.co:8443/image/abc",
    ],
)
async def test_images_outside_spotifys_hosts_are_refused_with_a_reason(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, url: str
) -> None:
    posted = body(image_url=url)
    response = await client.post("/track/", json=posted, headers=headers)
    assert response.status_code == 422, response.text
    assert "Spotify's image hosts" in response.text
    stored = await session.scalar(select(Track).where(Track.spotify_id == posted["spotify_id"]))
    assert stored is None


async def test_a_listeners_track_is_stored_marked_as_user_submitted(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    posted = body(image_url="https://i.scdn.co/image/ab67616d0000b273")
    response = await client.post("/track/", json=posted, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["image_url"] == posted["image_url"]
    stored = await session.scalar(select(Track).where(Track.spotify_id == posted["spotify_id"]))
    assert stored is not None
    assert stored.user_submitted is True


async def test_new_tracks_per_user_are_rate_limited(
    make_app: Callable[..., FastAPI], headers: dict[str, str]
) -> None:
    async with asgi_client(make_app(user_tracks_per_hour=3)) as client:
        statuses = [
            (await client.post("/track/", json=body(), headers=headers)).status_code
            for _ in range(4)
        ]
        assert statuses == [201, 201, 201, 429]
        limited = await client.post("/track/", json=body(), headers=headers)
        assert "new catalog tracks" in limited.json()["detail"]
        assert int(limited.headers["retry-after"]) > 0


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


async def test_with_spotify_configured_only_spotifys_metadata_is_stored(
    spotify_client: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    headers: dict[str, str],
    session: AsyncSession,
) -> None:
    spotify_id = new_spotify_id()
    fake_spotify.add_search_track(spotify_id, "Teardrop", "Massive Attack", album="Mezzanine")
    posted = body(spotify_id=spotify_id, title="FREE CRYPTO", artists=["spam"])

    response = await spotify_client.post("/track/", json=posted, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Teardrop"
    assert response.json()["artists"] == ["Massive Attack"]
    stored = await session.scalar(select(Track).where(Track.spotify_id == spotify_id))
    assert stored is not None
    assert stored.user_submitted is False

    unknown = await spotify_client.post("/track/", json=body(), headers=headers)
    assert unknown.status_code == 422
    assert "Spotify has no track" in unknown.json()["detail"]
