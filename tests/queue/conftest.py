from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Track
from tests.factories import create_track
from tests.fakes.fixtures import fake_spotify, fake_spotify_server
from tests.support.people import SignedIn, create_room, sign_in

__all__ = ["create_room", "fake_spotify", "fake_spotify_server", "sign_in"]

Tracks = Callable[[int], Awaitable[list[Track]]]


@pytest.fixture
def tracks(session: AsyncSession) -> Tracks:
    """``await tracks(n)``: n committed catalog tracks."""

    async def factory(count: int) -> list[Track]:
        created = [await create_track(session) for _ in range(count)]
        await session.commit()
        return created

    return factory


Join = Callable[..., Awaitable[None]]


@pytest.fixture
def join(client: httpx.AsyncClient) -> Join:
    async def factory(member: SignedIn, room: dict, password: str | None = None) -> None:
        body = {"password": password} if password else None
        response = await client.post(f"/rooms/{room['id']}/join", json=body, headers=member.headers)
        assert response.status_code == 200, response.text

    return factory
