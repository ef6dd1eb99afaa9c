from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.chat.conftest import AddMessages, CreateRoom, SignedIn, SignIn
from tests.support.queries import recorded_statements


async def statements_for_page(
    client: httpx.AsyncClient, db_connection: AsyncConnection, room: dict, who: SignedIn | None
) -> list[str]:
    with recorded_statements() as statements:
        response = await client.get(
            f"/chat/{room['id']}", params={"limit": 100}, headers=who.headers if who else None
        )
    assert response.status_code == 200, response.text
    return statements


async def test_history_is_a_constant_number_of_queries(
    client: httpx.AsyncClient,
    db_connection: AsyncConnection,
    sign_in: SignIn,
    create_room: CreateRoom,
    add_messages: AddMessages,
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    few = await create_room(alice, "Few", is_private=True, password="secret")
    many = await create_room(alice, "Many", is_private=True, password="secret")
    # Several authors, so a query per author would show.
    await add_messages(uuid.UUID(few["id"]), alice.user, 5)
    await add_messages(uuid.UUID(many["id"]), alice.user, 25)
    await add_messages(uuid.UUID(many["id"]), bob.user, 25)

    with_few = await statements_for_page(client, db_connection, few, alice)
    with_many = await statements_for_page(client, db_connection, many, alice)

    assert len(with_many) == len(with_few)
    # The token's user, the room with the caller's membership, the page (plus the unit of
    # work's savepoint bookkeeping in tests).
    selects = [s for s in with_many if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, selects
