"""GET /recommendations/rooms/{room_id}/tracks: the people present, their tastes combined."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.config import Settings, get_settings
from api.models import Room, RoomMember, User
from api.realtime.presence import users_key
from api.recommendations.training import training_service
from tests.factories import auth_headers
from tests.recommendations.test_training import _listeners


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings().model_copy(update={"data_dir": tmp_path})


async def _room(session: AsyncSession, owner: User, members: list[User], private: bool) -> Room:
    room = Room(
        name=f"room {uuid.uuid4().hex[:6]}",
        owner_id=owner.id,
        is_private=private,
        password_hash="x" if private else None,
    )
    session.add(room)
    await session.flush()
    for member in (owner, *members):
        session.add(RoomMember(room_id=room.id, user_id=member.id))
    await session.commit()
    return room


async def _present(redis: Redis, room: Room, *users: User) -> None:
    expires = int(time.time() * 1000) + 60_000
    await redis.zadd(users_key(str(room.id)), {str(user.id): expires for user in users})


async def test_the_room_gets_tracks_for_the_people_present_with_who_they_are_for(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> None:
    people = await _listeners(session)
    result = await training_service.train_and_publish(redis, settings, maker=sessionmaker)
    techno, shoegaze = people["Techno"], people["Shoegaze"]
    room = await _room(session, techno[0], [techno[1], shoegaze[0], people["Jazz"][0]], False)
    # Present: two techno fans and a shoegaze fan; the jazz member is not connected.
    await _present(redis, room, techno[0], techno[1], shoegaze[0])
    headers = auth_headers(get_settings(), techno[0])
    url = f"/recommendations/rooms/{room.id}/tracks"

    average = (
        await client.get(url, headers=headers, params={"strategy": "average", "limit": 5})
    ).json()
    misery = (
        await client.get(url, headers=headers, params={"strategy": "least_misery", "limit": 5})
    ).json()
    blend = (await client.get(url, headers=headers)).json()

    assert average["model_version"] == result.version
    assert (average["listeners"], average["basis"]) == (3, "present")
    # Two of the three present play techno: on average the room wants techno.
    assert [item["track"]["genres"] for item in average["items"][:3]] == [["techno"]] * 3
    top = average["items"][0]
    assert top["reason"].startswith("for ")
    assert "Techno fan" in top["reason"]
    assert "Jazz fan" not in top["reason"]  # the absent member does not count
    assert top["reason_parts"][0]["code"] == "room_group"
    assert top["reason_parts"][0]["params"]["people"] == 3
    # Least misery: the first track is on everyone's list, and the shoegaze fan is not
    # handed the techno the others want most.
    assert misery["items"][0]["liked_by"] == 3
    assert misery["items"][0]["track"]["genres"] != ["techno"]
    assert blend["strategy"] == "blend"
    assert len(blend["items"]) == 10


async def test_nobody_present_falls_back_to_members_and_private_rooms_are_for_members(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> None:
    people = await _listeners(session)
    await training_service.train_and_publish(redis, settings, maker=sessionmaker)
    jazz = people["Jazz"]
    room = await _room(session, jazz[0], [jazz[1]], True)
    url = f"/recommendations/rooms/{room.id}/tracks"

    answer = (await client.get(url, headers=auth_headers(get_settings(), jazz[1]))).json()
    outsider = await client.get(url, headers=auth_headers(get_settings(), people["Techno"][0]))
    missing = await client.get(
        f"/recommendations/rooms/{uuid.uuid4()}/tracks",
        headers=auth_headers(get_settings(), jazz[0]),
    )
    bad = await client.get(
        url, headers=auth_headers(get_settings(), jazz[0]), params={"strategy": "loudest"}
    )

    assert (answer["listeners"], answer["basis"]) == (2, "members")
    assert all(item["track"]["genres"] == ["jazz"] for item in answer["items"])
    assert outsider.status_code == 403
    assert missing.status_code == 404
    assert bad.status_code == 422
