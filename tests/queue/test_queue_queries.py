"""GET queue costs a constant number of statements, whatever the queue's length."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import QueueEntry
from api.queue.service import POSITION_GAP
from tests.factories import create_genre, create_track, create_user
from tests.support.people import CreateRoom, SignIn
from tests.support.queries import recorded_statements


async def fill_queue(session: AsyncSession, room_id: str, owner_id: uuid.UUID, count: int) -> None:
    genre = await create_genre(session, f"genre {uuid.uuid4().hex[:8]}")
    for i in range(count):
        track = await create_track(session, artists=[f"Artist {i}", f"Feature {i}"], genres=[genre])
        # Every other entry by a different person: who added each must not cost a query each.
        adder = owner_id if i % 2 == 0 else (await create_user(session)).id
        session.add(
            QueueEntry(
                room_id=uuid.UUID(room_id),
                track_id=track.id,
                added_by=adder,
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
        with recorded_statements() as statements:
            response = await client.get(f"/rooms/{room['id']}/queue", headers=owner.headers)
        assert response.status_code == 200
        assert len(response.json()) == length
        assert all(len(entry["track"]["artists"]) == 2 for entry in response.json())
        assert all(len(entry["track"]["genres"]) == 1 for entry in response.json())
        assert all(entry["added_by_user"]["id"] == entry["added_by"] for entry in response.json())
        counts.append(len(statements))

    assert counts[0] == counts[1]
    assert counts[0] <= 10, statements
