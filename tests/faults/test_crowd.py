"""A crowd in one room, reduced to run in seconds: real uvicorn processes, real sockets.

The full figures (500 sockets, 100 users x 1 msg/s for minutes, 10,000-message resumes,
stored messages/s) come from ``bench/crowd.py``; these cases hold the same assertions on
small counts: everybody connects and hears the same room, nothing is lost or delivered
twice, nobody is disconnected, and a resume larger than the send budget completes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.chat.repository import chat_repository
from api.core.config import Settings
from api.models import Message, Room, RoomMember, RoomRole
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.crowd import chat_load, connect_storm, missing, settle
from tests.support.database import drop_database, recreate_database, upgrade_to_head
from tests.support.live import (
    ApiProcess,
    LiveData,
    Person,
    channel_url,
    make_room,
    spawn_api,
)
from tests.support.processes import tunewave_env

CROWD_DATABASE_URL = f"{TEST_DATABASE_URL}_crowd"


@pytest.fixture(scope="module")
async def crowd_database() -> AsyncIterator[AsyncEngine]:
    await recreate_database(CROWD_DATABASE_URL)
    await upgrade_to_head(CROWD_DATABASE_URL)
    engine = create_async_engine(CROWD_DATABASE_URL)
    yield engine
    await engine.dispose()
    await drop_database(CROWD_DATABASE_URL)


@pytest.fixture(scope="module")
def api_pair(
    crowd_database: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ApiProcess]]:
    """Two API processes shared by the module's cases (none of them stops one)."""
    env = tunewave_env(
        DATABASE_URL=CROWD_DATABASE_URL, REDIS_URL=TEST_REDIS_URL, TUNEWAVE_ENV="test"
    )
    folder = tmp_path_factory.mktemp("crowd")
    apis = [spawn_api(env, folder / f"api-{n}.log") for n in range(2)]
    for api in apis:
        # Two processes importing at once on a busy machine: give them time.
        api.wait_ready(timeout_s=180)
    yield apis
    for api in apis:
        api.stop()


@pytest.fixture
def live(crowd_database: AsyncEngine, settings: Settings) -> LiveData:
    return LiveData(crowd_database, settings)


async def crowd(live: LiveData, count: int, room_id: str) -> list[Person]:
    people = [await live.person(f"crowd {n}") for n in range(count)]
    async with live.session() as session:
        session.add_all(
            RoomMember(room_id=uuid.UUID(room_id), user_id=p.user.id, role=RoomRole.member)
            for p in people
        )
        await session.commit()
    return people


def urls(apis: list[ApiProcess], room_id: str, people: list[Person]) -> list[str]:
    return [channel_url(apis[n % len(apis)], room_id, p.token) for n, p in enumerate(people)]


async def test_a_connect_storm_across_two_processes_all_connect_and_presence_is_exact(
    api_pair: list[ApiProcess], live: LiveData
) -> None:
    apis = api_pair
    owner = await live.person("owner")
    room_id = await make_room(apis[0], owner)
    people = await crowd(live, 60, room_id)

    storm = await connect_storm(urls(apis, room_id, people), timeout_s=60)
    try:
        assert storm.connected == len(people), [c.close_code for c in storm.clients]
        # Presence: a late arrival's hello lists every connected user once.
        late = await connect_storm([channel_url(apis[1], room_id, owner.token)], timeout_s=30)
        try:
            assert late.clients[0].hello is not None
            online = {user["id"] for user in late.clients[0].hello["online"]}
            assert online == {str(p.user.id) for p in [*people, owner]}
        finally:
            await late.clients[0].close()
        # Everybody drops and reconnects at once: the old sockets' leaves race the new
        # sockets' joins, and presence still ends exact.
        closing = asyncio.gather(*(c.close() for c in storm.clients))
        storm = await connect_storm(urls(apis, room_id, people), timeout_s=60)
        await closing
        assert storm.connected == len(people), [c.close_code for c in storm.clients]
        late = await connect_storm([channel_url(apis[0], room_id, owner.token)], timeout_s=30)
        try:
            assert late.clients[0].hello is not None
            online = {user["id"] for user in late.clients[0].hello["online"]}
            assert online == {str(p.user.id) for p in [*people, owner]}
        finally:
            await late.clients[0].close()
    finally:
        await asyncio.gather(*(c.close() for c in storm.clients))


async def test_one_room_many_senders_across_two_processes_nothing_lost_nobody_dropped(
    api_pair: list[ApiProcess], live: LiveData
) -> None:
    apis = api_pair
    owner = await live.person("owner")
    room_id = await make_room(apis[0], owner)
    people = await crowd(live, 20, room_id)
    storm = await connect_storm(urls(apis, room_id, people), timeout_s=60)
    clients = storm.clients
    try:
        assert storm.connected == len(people)
        load = await chat_load(clients, rate_per_user=1.0, duration_s=4)
        async with live.session() as session:
            stored = await session.scalar(
                select(func.count()).where(Message.room_id == uuid.UUID(room_id))
            )
            last_seq = await session.scalar(
                select(Room.last_message_seq).where(Room.id == uuid.UUID(room_id))
            )
        # Every message sent was stored once (a retry reuses its client_id) and acknowledged.
        assert load.acked == load.sent
        assert stored == load.sent == last_seq
        await settle(clients, last_seq)
        for client in clients:
            # Every socket stayed open and heard every message, in order, without duplicates.
            assert client.close_code is None
            assert missing(client, 1, last_seq) == 0
            assert client.seqs == sorted(set(client.seqs))
            assert not client.errors, client.errors
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def test_a_resume_far_larger_than_the_send_budget_completes(
    api_pair: list[ApiProcess], live: LiveData
) -> None:
    api = api_pair[0]
    owner = await live.person("owner")
    room_id = await make_room(api, owner)
    async with live.session() as session:
        for n in range(1500):
            await chat_repository.store(
                session,
                room_id=uuid.UUID(room_id),
                user_id=owner.user.id,
                text=f"missed {n}",
                client_id=None,
            )
    storm = await connect_storm([channel_url(api, room_id, owner.token)], timeout_s=30)
    (client,) = storm.clients
    try:
        assert client.hello is not None
        assert client.hello["last_seq"] == 1500
        # Six times the default frame budget (256).
        resumed = await client.resume_from(0, timeout_s=120)
        assert resumed == {"type": "resumed", "after_seq": 0, "last_seq": 1500, "count": 1500}
        assert client.seqs == list(range(1, 1501))
        assert client.close_code is None
    finally:
        await client.close()
