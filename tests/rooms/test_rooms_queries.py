"""Room lists cost a constant number of statements, however many rooms and members."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_genre
from tests.support.people import CreateRoom, SignIn
from tests.support.queries import recorded_statements


async def _statements(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    with recorded_statements() as statements:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


async def test_lists_do_not_query_per_room_or_member(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, create_room: CreateRoom
) -> None:
    for name in ("pop", "rock", "jazz"):
        await create_genre(session, name)
    await session.commit()
    owner = await sign_in("owner")
    listeners = [await sign_in(f"listener {n}") for n in range(6)]

    small = await create_room(owner, "Small", genres=["pop"])
    counts_small = {
        "rooms": await _statements(client, "/rooms/?limit=100", owner.headers),
        "mine": await _statements(client, "/rooms/my-rooms", owner.headers),
        "members": await _statements(client, f"/rooms/{small['id']}/members", owner.headers),
    }

    for n in range(8):
        room = await create_room(owner, f"Room {n}", genres=["pop", "rock", "jazz"])
        for listener in listeners:
            joined = await client.post(f"/rooms/{room['id']}/join", headers=listener.headers)
            assert joined.status_code == 200
    counts_large = {
        "rooms": await _statements(client, "/rooms/?limit=100", owner.headers),
        "mine": await _statements(client, "/rooms/my-rooms", owner.headers),
        "members": await _statements(client, f"/rooms/{room['id']}/members", owner.headers),
    }
    assert counts_small == counts_large
    assert max(counts_large.values()) <= 6, counts_large
