"""GET queue costs a constant number of statements, whatever the queue's length."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.models import QueueEntry
from api.queue.service import POSITION_GAP
from tests.factories import create_genre, create_track
from tests.support.people import CreateRoom, SignIn


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)


@pytest.fixture
def statements(db_connection: AsyncConnection) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    engine = db_connection.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


async def fill_queue(session: AsyncSession, room_id: str, owner_id: uuid.UUID, count: int) -> None:
    genre = await create_genre(session, f"genre {uuid.uuid4().hex[:8]}")
    for i in range(count):
        track = await create_track(session, artists=[f"Artist {i}", f"Feature {i}"], genres=[genre])
        session.add(
            QueueEntry(
                room_id=uuid.UUID(room_id),
                track_id=track.id,
                added_by=owner_id,
                position=(i + 1) * POSITION_GAP,
            )
        )
    await session.commit()


@pytest.mark.parametrize("private", [False, True])
async def test_get_queue_statement_count_does_not_grow_with_the_queue(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sign_in: SignIn,
    create_room: CreateRoom,
    statements: StatementCounter,
    private: bool,
) -> None:
    owner = await sign_in("owner")
    fields = {"is_private": True, "password": "open sesame"} if private else {}
    short = await create_room(owner, "Short Queue", **fields)
    long = await create_room(owner, "Long Queue", **fields)
    await fill_queue(session, short["id"], owner.user.id, 2)
    await fill_queue(session, long["id"], owner.user.id, 30)

    counts = []
    for room, length in ((short, 2), (long, 30)):
        statements.statements.clear()
        response = await client.get(f"/rooms/{room['id']}/queue", headers=owner.headers)
        assert response.status_code == 200
        assert len(response.json()) == length
        assert all(len(entry["track"]["artists"]) == 2 for entry in response.json())
        assert all(len(entry["track"]["genres"]) == 1 for entry in response.json())
        counts.append(len(statements.statements))

    assert counts[0] == counts[1]
    assert counts[0] <= 10, statements.statements
