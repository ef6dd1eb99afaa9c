from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.models import (
    ListeningEvent,
    ListeningSource,
    OAuthIdentity,
    Room,
    RoomMember,
    Track,
    UserGenre,
)
from tests.factories import create_genre, create_identity
from tests.support.people import CreateRoom, SignIn

GENRES = ("Jazz", "Ambient", "Shoegaze", "Hip-Hop", "R&B", "Techno")


@pytest.fixture
async def genres(session: AsyncSession) -> None:
    for name in GENRES:
        await create_genre(session, name)
    await session.commit()


async def test_patch_me_changes_name_and_genres(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None
) -> None:
    alice = await sign_in("alice")

    response = await client.patch(
        "/users/me",
        json={"display_name": "  Alice B.  ", "favorite_genres": ["Shoegaze", "hip hop", "JAZZ"]},
        headers=alice.headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Alice B."
    assert body["email"] == "alice@example.org"
    assert body["favorite_genres"] == ["hip hop", "jazz", "shoegaze"]
    assert (await client.get("/users/me", headers=alice.headers)).json() == body


async def test_patch_me_changes_only_what_is_sent(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None
) -> None:
    alice = await sign_in("alice")
    await client.patch("/users/me", json={"favorite_genres": ["jazz"]}, headers=alice.headers)

    renamed = await client.patch("/users/me", json={"display_name": "Al"}, headers=alice.headers)
    assert renamed.json()["favorite_genres"] == ["jazz"]
    assert renamed.json()["display_name"] == "Al"

    untouched = await client.patch("/users/me", json={}, headers=alice.headers)
    assert untouched.status_code == 200
    assert untouched.json() == renamed.json()

    cleared = await client.patch("/users/me", json={"favorite_genres": []}, headers=alice.headers)
    assert cleared.json()["favorite_genres"] == []
    assert cleared.json()["display_name"] == "Al"


@pytest.mark.parametrize(
    "payload",
    [
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "x" * 65},
        {"display_name": None},
        {"display_name": 42},
        {"display_name": "nul\x00"},
        {"favorite_genres": None},
        {"favorite_genres": "jazz"},
        {"favorite_genres": [1]},
        {"favorite_genres": [""]},
        {"favorite_genres": ["x" * 65]},
        {"favorite_genres": ["jazz"] * 11},
        {"favorite_genres": ["polka"]},
        {"favorite_genres": ["jazz", "no such genre"]},
        {"email": "new@example.org"},
        {"display_name": "ok", "avatar_url": "https://x.test/a.png"},
        [],
        "alice",
    ],
)
async def test_bad_profile_changes_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None, payload: object
) -> None:
    alice = await sign_in("alice")

    response = await client.patch("/users/me", json=payload, headers=alice.headers)

    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    unchanged = (await client.get("/users/me", headers=alice.headers)).json()
    assert unchanged["display_name"] == "alice"
    assert unchanged["favorite_genres"] == []


async def test_unknown_genres_are_named(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None
) -> None:
    alice = await sign_in("alice")

    response = await client.patch(
        "/users/me", json={"favorite_genres": ["jazz", "polka"]}, headers=alice.headers
    )

    assert response.status_code == 422
    assert "polka" in response.json()["detail"]


async def test_profile_changes_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert (await client.patch("/users/me", json={"display_name": "x"})).status_code == 401
    assert (await client.delete("/users/me")).status_code == 401


async def test_public_profile_has_no_email(
    client: httpx.AsyncClient, sign_in: SignIn, genres: None
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await client.patch("/users/me", json={"favorite_genres": ["techno"]}, headers=alice.headers)

    for headers in (None, bob.headers, alice.headers):
        response = await client.get(f"/users/{alice.user.id}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {
            "id",
            "display_name",
            "avatar_url",
            "favorite_genres",
            "is_demo",
            "created_at",
        }
        assert body["is_demo"] is False
        assert body["id"] == str(alice.user.id)
        assert body["display_name"] == "alice"
        assert body["favorite_genres"] == ["techno"]
    # /users/me is still the caller's own profile, with the email.
    me = await client.get("/users/me", headers=bob.headers)
    assert me.json()["email"] == "bob@example.org"


async def test_public_profile_of_unknown_or_malformed_ids(client: httpx.AsyncClient) -> None:
    unknown = await client.get(f"/users/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "user not found", "code": "user_not_found"}
    for bad in ("not-a-uuid", "123", "me2"):
        assert (await client.get(f"/users/{bad}")).status_code == 422


async def count(session: AsyncSession, model: type, *where: ColumnElement[bool]) -> int:
    total = await session.scalar(select(func.count()).select_from(model).where(*where))
    return total or 0


async def test_delete_me_removes_the_account_and_personal_data(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sign_in: SignIn,
    create_room: CreateRoom,
    genres: None,
) -> None:
    alice, bob, carol = await sign_in("alice"), await sign_in("bob"), await sign_in("carol")
    await client.patch("/users/me", json={"favorite_genres": ["jazz"]}, headers=alice.headers)
    await create_identity(session, alice.user, get_settings(), refresh_token="r-token")
    track = Track(spotify_id=uuid.uuid4().hex[:22], title="Song", duration_ms=200_000)
    session.add(track)
    await session.flush()
    session.add(
        ListeningEvent(
            user_id=alice.user.id,
            track_id=track.id,
            source=ListeningSource.demo,
            played_at=datetime.now(UTC),
            ms_played=1000,
        )
    )
    await session.commit()
    # Alice owns a room bob and carol joined (bob first), a room only she is in, and is a
    # member of carol's room.
    shared = await create_room(alice, "Shared")
    for who in (bob, carol):
        assert (await client.post(f"/rooms/{shared['id']}/join", headers=who.headers)).is_success
    solo = await create_room(alice, "Solo")
    carols = await create_room(carol, "Carol's")
    assert (await client.post(f"/rooms/{carols['id']}/join", headers=alice.headers)).is_success

    response = await client.delete("/users/me", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "deleted"}
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    assert (await client.get(f"/users/{alice.user.id}")).status_code == 404
    handed_over = (await client.get(f"/rooms/{shared['id']}")).json()
    assert handed_over["owner_id"] == str(bob.user.id)
    assert handed_over["member_count"] == 2
    assert (await client.get(f"/rooms/{solo['id']}")).status_code == 404
    assert (await client.get(f"/rooms/{carols['id']}")).json()["member_count"] == 1
    user_id = alice.user.id
    assert await count(session, OAuthIdentity, OAuthIdentity.user_id == user_id) == 0
    assert await count(session, ListeningEvent, ListeningEvent.user_id == user_id) == 0
    assert await count(session, UserGenre, UserGenre.user_id == user_id) == 0
    assert await count(session, RoomMember, RoomMember.user_id == user_id) == 0
    assert await count(session, Room, Room.owner_id == user_id) == 0
    bobs_role = await session.scalar(
        select(RoomMember.role).where(
            RoomMember.room_id == uuid.UUID(shared["id"]), RoomMember.user_id == bob.user.id
        )
    )
    assert bobs_role == "owner"
