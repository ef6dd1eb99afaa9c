"""Signed-in test users and their rooms: fixtures every API test can use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.models import User
from tests.factories import auth_headers, create_user


@dataclass
class SignedIn:
    user: User
    headers: dict[str, str]


SignIn = Callable[[str], Awaitable[SignedIn]]


@pytest.fixture
def sign_in(session: AsyncSession, settings: Settings) -> SignIn:
    async def factory(name: str) -> SignedIn:
        user = await create_user(
            session, display_name=name, email=f"{name}@example.org", email_verified=True
        )
        await session.commit()
        return SignedIn(user, auth_headers(settings, user))

    return factory


CreateRoom = Callable[..., Awaitable[dict]]


@pytest.fixture
def create_room(client: httpx.AsyncClient) -> CreateRoom:
    async def factory(owner: SignedIn, name: str, **fields: object) -> dict:
        response = await client.post(
            "/rooms/", json={"name": name, **fields}, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    return factory
