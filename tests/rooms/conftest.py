from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.tokens import issue_access_token
from api.config import Settings
from api.models import User


@dataclass
class SignedIn:
    user: User
    headers: dict[str, str]


SignIn = Callable[[str], Awaitable[SignedIn]]


@pytest.fixture
def sign_in(session: AsyncSession, settings: Settings) -> SignIn:
    async def factory(name: str) -> SignedIn:
        user = User(display_name=name, email=f"{name}@example.org", email_verified=True)
        session.add(user)
        await session.commit()
        token, _ = issue_access_token(settings, user.id)
        return SignedIn(user, {"Authorization": f"Bearer {token}"})

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
