from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import (
    ListeningEvent,
    ListeningSource,
    Message,
    QueueEntry,
    Room,
    RoomMember,
)
from api.rooms.service import JOIN_FAILURES_ALLOWED
from api.tracks.catalog import CatalogTrack
from api.tracks.service import tracks_service
from tests.factories import create_track
from tests.support.people import CreateRoom, SignIn


@pytest.fixture
async def genres(session: AsyncSession) -> None:
    track = CatalogTrack("t" * 22, "Song", "Artist", None, 1000, 1, None, ("pop", "rock", "edm"))
    await tracks_service.import_catalog(session, [track])
    await session.commit()


async def test_creator_owns_and_joins_the_room(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None
) -> None:
    alice = await sign_in("alice")
    response = await client.post(
        "/rooms/",
        json={"name": "Indie Night", "description": "  chill  ", "genres": ["Pop", "rock"]},
        headers=alice.headers,
    )
    assert response.status_code == 201
    room = response.json()
    assert room["owner_id"] == str(alice.user.id)
    assert room["member_count"] == 1
    assert room["description"] == "chill"
    assert sorted(room["genres"]) == ["pop", "rock"]
    assert room["is_private"] is False
    assert "password" not in room
    assert "password_hash" not in room
    mine = await client.get("/rooms/my-rooms", headers=alice.headers)
    assert [r["id"] for r in mine.json()] == [room["id"]]


async def test_names_are_unique_regardless_of_case(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice = await sign_in("alice")
    await create_room(alice, "Indie Night")
    response = await client.post("/rooms/", json={"name": "indie night"}, headers=alice.headers)
    assert response.status_code == 409
    found = await client.get("/rooms/by-name/", params={"name": "INDIE NIGHT"})
    assert found.status_code == 200
    assert found.json()["name"] == "Indie Night"
    assert (await client.get("/rooms/by-name/", params={"name": "nope"})).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 81},
        {"name": "p", "is_private": True},
        {"name": "p", "password": "secret"},
        {"name": "p", "is_private": True, "password": "abc"},
        {"name": "p", "genres": "pop"},
        {"name": "p", "unexpected": 1},
        {"name": "p", "queue_policy": "anyone"},
    ],
)
async def test_bad_room_bodies_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, body: dict
) -> None:
    alice = await sign_in("alice")
    response = await client.post("/rooms/", json=body, headers=alice.headers)
    assert response.status_code == 422
    assert "detail" in response.json()


async def test_unknown_genre_is_422_and_names_it(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None
) -> None:
    alice = await sign_in("alice")
    response = await client.post(
        "/rooms/", json={"name": "x", "genres": ["pop", "polka"]}, headers=alice.headers
    )
    assert response.status_code == 422
    assert "polka" in response.json()["detail"]


async def test_private_room_join_needs_the_password(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, session: AsyncSession
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Secret", is_private=True, password="hunter22")
    stored = await session.scalar(select(Room.password_hash).where(Room.id == room["id"]))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    wrong = await client.post(
        f"/rooms/{room['id']}/join", json={"password": "nope"}, headers=bob.headers
    )
    assert wrong.status_code == 403
    missing = await client.post(f"/rooms/{room['id']}/join", headers=bob.headers)
    assert missing.status_code == 403
    members = await client.get(f"/rooms/{room['id']}/members", headers=bob.headers)
    assert members.status_code == 403
    joined = await client.post(
        f"/rooms/{room['id']}/join", json={"password": "hunter22"}, headers=bob.headers
    )
    assert joined.status_code == 200
    assert joined.json()["member_count"] == 2
    members = await client.get(f"/rooms/{room['id']}/members", headers=bob.headers)
    assert [m["display_name"] for m in members.json()] == ["alice", "bob"]
    # Only your own email is shown to you.
    assert [m["email"] for m in members.json()] == [None, "bob@example.org"]


async def test_repeated_wrong_passwords_are_rate_limited(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Secret", is_private=True, password="hunter22")
    url = f"/rooms/{room['id']}/join"
    for _ in range(JOIN_FAILURES_ALLOWED):
        response = await client.post(url, json={"password": "wrong"}, headers=bob.headers)
        assert response.status_code == 403
    blocked = await client.post(url, json={"password": "hunter22"}, headers=bob.headers)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    # Other users are not affected by bob's failures.
    carol = await sign_in("carol")
    response = await client.post(url, json={"password": "hunter22"}, headers=carol.headers)
    assert response.status_code == 200


async def test_only_the_owner_updates_and_deletes(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, session: AsyncSession
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Mine")
    url = f"/rooms/{room['id']}"
    assert (await client.put(url, json={"name": "Bob's"}, headers=bob.headers)).status_code == 403
    assert (await client.delete(url, headers=bob.headers)).status_code == 403
    updated = await client.put(
        url,
        json={"description": "new", "is_private": True, "password": "s3cret"},
        headers=alice.headers,
    )
    assert updated.status_code == 200
    assert updated.json()["is_private"] is True
    assert updated.json()["name"] == "Mine"
    # Private without a password is refused; public again drops the password.
    public = await client.put(url, json={"is_private": False}, headers=alice.headers)
    assert public.json()["is_private"] is False
    assert await session.scalar(select(Room.password_hash).where(Room.id == room["id"])) is None
    no_password = await client.put(url, json={"is_private": True}, headers=alice.headers)
    assert no_password.status_code == 409
    deleted = await client.delete(url, headers=alice.headers)
    assert deleted.json() == {"status": "deleted"}
    assert (await client.get(url)).status_code == 404


async def test_owner_leaving_hands_the_room_to_the_longest_standing_member(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob, carol = await sign_in("alice"), await sign_in("bob"), await sign_in("carol")
    room = await create_room(alice, "Relay")
    for user in (bob, carol):
        assert (await client.post(f"/rooms/{room['id']}/join", headers=user.headers)).is_success
    left = await client.post(f"/rooms/{room['id']}/leave", headers=alice.headers)
    assert left.json() == {"status": "left"}
    after = (await client.get(f"/rooms/{room['id']}")).json()
    assert after["owner_id"] == str(bob.user.id)
    assert after["member_count"] == 2
    again = await client.post(f"/rooms/{room['id']}/leave", headers=alice.headers)
    assert again.status_code == 409


async def test_owner_leaving_an_empty_room_closes_it(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, session: AsyncSession
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Solo")
    await client.post(f"/rooms/{room['id']}/leave", headers=alice.headers)
    assert await session.scalar(select(func.count()).select_from(Room)) == 0


async def test_listing_filters_by_genre_and_text(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, genres: None
) -> None:
    alice = await sign_in("alice")
    await create_room(alice, "Pop Palace", genres=["pop"])
    await create_room(alice, "Rock Cave", genres=["rock"], description="loud 100% guitars")
    await create_room(alice, "Mixed", genres=["pop", "rock"])
    names = lambda r: sorted(room["name"] for room in r.json())  # noqa: E731
    assert names(await client.get("/rooms/", params={"genre": "Rock"})) == ["Mixed", "Rock Cave"]
    assert names(await client.get("/rooms/", params={"q": "palace"})) == ["Pop Palace"]
    assert names(await client.get("/rooms/", params={"q": "100%"})) == ["Rock Cave"]
    assert len((await client.get("/rooms/", params={"limit": 2})).json()) == 2
    assert len((await client.get("/rooms/", params={"limit": 2, "offset": 2})).json()) == 1
    assert (await client.get("/rooms/", params={"limit": 0})).status_code == 422


async def test_invalid_and_unknown_ids(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    assert (await client.get("/rooms/not-a-uuid")).status_code == 422
    assert (await client.get(f"/rooms/{uuid.uuid4()}")).status_code == 404
    join = await client.post(f"/rooms/{uuid.uuid4()}/join", headers=alice.headers)
    assert join.status_code == 404
    assert (await client.post("/rooms/", json={"name": "x"})).status_code == 401
    nul = await client.get("/rooms/by-name/", params={"name": "a\x00b"})
    assert nul.status_code == 422
    assert "NUL" in nul.json()["detail"][0]["msg"]


async def test_deleting_a_room_removes_its_queue_members_and_chat_but_keeps_history(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, session: AsyncSession
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Short-lived")
    room_id = uuid.UUID(room["id"])
    assert (await client.post(f"/rooms/{room_id}/join", headers=bob.headers)).is_success
    track = await create_track(session)
    session.add(
        ListeningEvent(
            user_id=bob.user.id,
            track_id=track.id,
            source=ListeningSource.room,
            room_id=room_id,
            played_at=datetime.now(UTC),
            ms_played=31_000,
        )
    )
    await session.commit()
    queued = await client.post(
        f"/rooms/{room_id}/queue", json={"spotify_id": track.spotify_id}, headers=alice.headers
    )
    assert queued.status_code == 201
    posted = await client.post(f"/chat/{room_id}", json={"text": "bye"}, headers=bob.headers)
    assert posted.status_code == 201

    assert (await client.delete(f"/rooms/{room_id}", headers=alice.headers)).is_success

    for model in (QueueEntry, Message, RoomMember):
        remaining = await session.scalar(
            select(func.count()).select_from(model).where(model.room_id == room_id)
        )
        assert remaining == 0, model.__name__
    history = await session.scalar(
        select(ListeningEvent)
        .where(ListeningEvent.user_id == bob.user.id)
        .execution_options(populate_existing=True)
    )
    assert history is not None
    assert history.room_id is None
