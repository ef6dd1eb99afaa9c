"""Pytest fixtures for the fakes; a test package's conftest imports the ones it uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from api.auth import google as google_oidc
from tests.fakes.google import FakeGoogle
from tests.fakes.servers import serve_asgi, serve_wsgi
from tests.fakes.spotify import FakeSpotify


@pytest.fixture(scope="session")
def fake_spotify_server() -> Iterator[FakeSpotify]:
    fake = FakeSpotify()
    with serve_asgi(fake.build_app()) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
def fake_spotify(fake_spotify_server: FakeSpotify) -> Iterator[FakeSpotify]:
    fake_spotify_server.reset()
    yield fake_spotify_server
    fake_spotify_server.reset()


@pytest.fixture(scope="session")
def fake_google_server() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    with serve_wsgi(fake.app) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
def fake_google(fake_google_server: FakeGoogle) -> Iterator[FakeGoogle]:
    fake_google_server.reset()
    google_oidc.clear_caches()
    yield fake_google_server
    fake_google_server.reset()


def spotify_settings(fake: FakeSpotify) -> dict[str, object]:
    return {
        "spotify_client_id": fake.client_id,
        "spotify_accounts_url": fake.base_url,
        "spotify_api_url": f"{fake.base_url}/v1",
    }


def google_settings(fake: FakeGoogle, client_id: str = "tunewave-google-test") -> dict[str, object]:
    return {
        "google_client_id": client_id,
        "google_client_secret": SecretStr("google-test-secret"),
        "google_discovery_url": fake.discovery_url,
    }
