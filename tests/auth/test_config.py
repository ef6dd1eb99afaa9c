from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI

from tests.conftest import asgi_client
from tests.fakes.fixtures import google_settings, spotify_settings
from tests.fakes.google import FakeGoogle
from tests.fakes.spotify import FakeSpotify


async def test_nothing_configured(client: httpx.AsyncClient) -> None:
    body = (await client.get("/auth/config")).json()
    assert body["dev_login_enabled"] is False
    assert body["google"]["enabled"] is False
    assert body["google"]["client_id"] is None
    assert body["google"]["authorize_url"] is None
    assert body["spotify"]["enabled"] is False


async def test_dev_login_flag(dev_client: httpx.AsyncClient) -> None:
    assert (await dev_client.get("/auth/config")).json()["dev_login_enabled"] is True


async def test_providers_configured(
    make_app: Callable[..., FastAPI], fake_google: FakeGoogle, fake_spotify: FakeSpotify
) -> None:
    app = make_app(
        **google_settings(fake_google, "g-client"),
        **spotify_settings(fake_spotify),
        public_api_url="https://api.tunewave.test/",
    )
    async with asgi_client(app) as client:
        response = await client.get("/auth/config")

    assert response.status_code == 200
    body = response.json()
    assert body["google"] == {
        "enabled": True,
        "client_id": "g-client",
        "login_url": "https://api.tunewave.test/auth/google/login",
        "authorize_url": f"{fake_google.base_url}/oauth2/authorize",
        "redirect_uri": "https://api.tunewave.test/auth/google/callback",
        "scopes": ["openid", "email", "profile"],
    }
    spotify = body["spotify"]
    assert spotify["enabled"] is True
    assert spotify["client_id"] == fake_spotify.client_id
    assert spotify["authorize_url"] == f"{fake_spotify.base_url}/authorize"
    assert spotify["redirect_uri"] == "https://api.tunewave.test/auth/spotify/callback"
    assert "user-read-recently-played" in spotify["scopes"]
    assert "google-test-secret" not in response.text


async def test_google_down_still_answers(
    make_app: Callable[..., FastAPI], fake_google: FakeGoogle
) -> None:
    fake_google.fail("/.well-known/openid-configuration", 503)
    async with asgi_client(make_app(**google_settings(fake_google))) as client:
        response = await client.get("/auth/config")
    assert response.status_code == 200
    assert response.json()["google"]["enabled"] is True
    assert response.json()["google"]["authorize_url"] is None
