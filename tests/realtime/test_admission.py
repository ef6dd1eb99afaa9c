"""Every refusal of the live channel has its own close code and reason, and joins nobody."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select

from api.core.config import Settings
from api.models import RoomMember
from tests.realtime.conftest import ALLOWED_ORIGIN
from tests.support.live import ApiProcess, LiveData, api_call, live_client, make_room, refusal


def expired_token(settings: Settings, user_id: uuid.UUID) -> str:
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": past - timedelta(hours=1),
        "exp": past,
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)


async def test_tokens_missing_bad_or_expired_are_refused(
    shared_api: ApiProcess, live: LiveData, settings: Settings
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)

    assert await refusal(shared_api, room_id, None) == (4401, "missing token", [])
    assert await refusal(shared_api, room_id, "not-a-jwt") == (4401, "invalid token", [])
    forged = jwt.encode({"sub": str(owner.user.id)}, "another-secret-of-32-bytes-at-least!")
    assert await refusal(shared_api, room_id, forged) == (4401, "invalid token", [])
    expired = expired_token(settings, owner.user.id)
    assert await refusal(shared_api, room_id, expired) == (4402, "token expired", [])
    gone = await live.person("soon gone")
    async with live.session() as session:
        await session.delete(await session.get(type(gone.user), gone.user.id))
        await session.commit()
    assert await refusal(shared_api, room_id, gone.token) == (4401, "unknown user", [])


async def test_unknown_rooms_are_refused(shared_api: ApiProcess, live: LiveData) -> None:
    person = await live.person("visitor")
    assert await refusal(shared_api, str(uuid.uuid4()), person.token) == (
        4404,
        "room not found",
        [],
    )
    assert await refusal(shared_api, "not-a-uuid", person.token) == (4404, "room not found", [])


async def test_private_rooms_refuse_non_members_and_admit_members(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    stranger = await live.person("stranger")
    room_id = await make_room(shared_api, owner, is_private=True, password="open sesame")

    assert await refusal(shared_api, room_id, stranger.token) == (4403, "members only", [])
    async with live.session() as session:
        member = await session.get(RoomMember, (uuid.UUID(room_id), stranger.user.id))
    assert member is None

    joined = await api_call(
        shared_api, "POST", f"/rooms/{room_id}/join", stranger, json={"password": "open sesame"}
    )
    assert joined.status_code == 200
    async with live_client(shared_api, room_id, stranger.token) as client:
        hello = client.of_type("hello")[0]
        assert hello["room_id"] == room_id
        assert hello["user_id"] == str(stranger.user.id)


async def test_origins_outside_the_allowed_list_are_refused(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)
    assert await refusal(shared_api, room_id, owner.token, origin="https://evil.example") == (
        4405,
        "origin not allowed",
        [],
    )
    async with live_client(shared_api, room_id, owner.token, origin=ALLOWED_ORIGIN) as client:
        assert client.of_type("hello")
    # No Origin header: not a browser page of another site.
    async with live_client(shared_api, room_id, owner.token) as client:
        assert client.of_type("hello")


async def test_public_rooms_join_the_user_on_connect(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    guest = await live.person("guest")
    room_id = await make_room(shared_api, owner)
    async with (
        live_client(shared_api, room_id, owner.token) as watcher,
        live_client(shared_api, room_id, guest.token),
    ):
        await watcher.wait_type("member_joined", user_id=str(guest.user.id))
    async with live.session() as session:
        members = set(
            await session.scalars(
                select(RoomMember.user_id).where(RoomMember.room_id == uuid.UUID(room_id))
            )
        )
    assert members == {owner.user.id, guest.user.id}
