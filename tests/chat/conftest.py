from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.chat.repository import chat_repository
from api.models import Message, User
from tests.support.people import CreateRoom, SignedIn, SignIn, create_room, sign_in

__all__ = ["AddMessages", "CreateRoom", "SignIn", "SignedIn", "create_room", "sign_in"]

AddMessages = Callable[[uuid.UUID, User, int], Awaitable[list[Message]]]


@pytest.fixture
def add_messages(session: AsyncSession) -> AddMessages:
    """Store messages the way a post does (seq, created_at), without the rate limit."""

    async def factory(room_id: uuid.UUID, author: User, count: int) -> list[Message]:
        messages = []
        for number in range(count):
            stored = await chat_repository.store(
                session,
                room_id=room_id,
                user_id=author.id,
                text=f"message {number + 1}",
                client_id=None,
            )
            assert stored is not None
            messages.append(await session.get_one(Message, stored.id))
        await session.commit()
        return messages

    return factory


async def post(
    client: httpx.AsyncClient, who: SignedIn, room_id: str, text: str, **fields: object
) -> httpx.Response:
    return await client.post(f"/chat/{room_id}", json={"text": text, **fields}, headers=who.headers)
