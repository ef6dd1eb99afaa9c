from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.db import session_scope
from api.tracks.catalog import CatalogTrack
from api.tracks.service import tracks_service
from tests.conftest import asgi_client
from tests.fakes.fixtures import (  # noqa: F401
    fake_spotify,
    fake_spotify_server,
    spotify_settings,
)
from tests.fakes.spotify import FakeSpotify

SPOTIFY_SECRET = "fake-spotify-secret"

AddTracks = Callable[..., Awaitable[None]]


@pytest.fixture
def add_tracks(sessionmaker: async_sessionmaker[AsyncSession]) -> AddTracks:
    """Put tracks in the local catalog: (spotify_id, title, artist[, album, popularity]).

    One unit of work, as an import is: its after-commit work (the read cache's
    invalidation) runs too.
    """

    async def factory(*rows: tuple, genres: tuple[str, ...] = ("pop",)) -> None:
        tracks = [
            CatalogTrack(
                spotify_id=row[0],
                title=row[1],
                artist=row[2],
                album=row[3] if len(row) > 3 else None,
                duration_ms=180_000,
                popularity=row[4] if len(row) > 4 else 50,
                release_date="2019-05-01",
                genres=genres,
            )
            for row in rows
        ]
        async with session_scope(sessionmaker) as session:
            await tracks_service.import_catalog(session, tracks)

    return factory


@pytest.fixture
def spotify_app(
    make_app: Callable[..., FastAPI],
    fake_spotify: FakeSpotify,  # noqa: F811
) -> FastAPI:
    """The app with Spotify configured for Client Credentials against the fake."""
    fake_spotify.client_secret = SPOTIFY_SECRET
    return make_app(
        **spotify_settings(fake_spotify),
        spotify_client_secret=SecretStr(SPOTIFY_SECRET),
        http_timeout_s=0.5,
    )


@pytest.fixture
async def spotify_client(spotify_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(spotify_app) as client:
        yield client
