"""Who may do what: every room-scoped endpoint x {anonymous, non-member, member, owner} x
{public, private room}, each cell with the exact status it must answer.

Each cell builds its own world (an owner's room with one member, one queued track, one chat
message) inside the test's rolled-back transaction, then makes one request as the role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_track
from tests.support.people import CreateRoom, SignedIn, SignIn

PASSWORD = "open-sesame"
ROLES = ("anonymous", "non_member", "member", "owner")


@dataclass
class World:
    room: dict[str, Any]
    entry_id: str
    spare_spotify_id: str
    private: bool


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[World], str]
    body: Callable[[World], Any] | None = None


def statuses(
    public: tuple[int, int, int, int], private: tuple[int, int, int, int]
) -> dict[tuple[str, str], int]:
    table = {}
    for privacy, row in (("public", public), ("private", private)):
        for role, status in zip(ROLES, row, strict=True):
            table[(privacy, role)] = status
    return table


def room_path(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/rooms/{world.room['id']}{suffix}"


# (anonymous, non-member, member, owner)
MATRIX: dict[str, tuple[Call, dict[tuple[str, str], int]]] = {
    "GET room": (Call("GET", room_path()), statuses((200,) * 4, (200,) * 4)),
    "GET room by name": (
        Call("GET", lambda w: f"/rooms/by-name/?name={w.room['name']}"),
        statuses((200,) * 4, (200,) * 4),
    ),
    "PUT room": (
        Call("PUT", room_path(), lambda w: {"description": "changed"}),
        statuses((401, 403, 403, 200), (401, 403, 403, 200)),
    ),
    "DELETE room": (
        Call("DELETE", room_path()),
        statuses((401, 403, 403, 200), (401, 403, 403, 200)),
    ),
    "join": (
        Call("POST", room_path("/join"), lambda w: {"password": PASSWORD} if w.private else None),
        statuses((401, 200, 200, 200), (401, 200, 200, 200)),
    ),
    "join without password": (
        Call("POST", room_path("/join"), lambda w: {}),
        statuses((401, 200, 200, 200), (401, 403, 200, 200)),
    ),
    "leave": (
        Call("POST", room_path("/leave")),
        statuses((401, 409, 200, 200), (401, 409, 200, 200)),
    ),
    "members": (
        Call("GET", room_path("/members")),
        statuses((200,) * 4, (401, 403, 200, 200)),
    ),
    "GET queue": (
        Call("GET", room_path("/queue")),
        statuses((200,) * 4, (401, 403, 200, 200)),
    ),
    "GET queue entry": (
        Call("GET", lambda w: f"/rooms/{w.room['id']}/queue/{w.entry_id}"),
        statuses((200,) * 4, (401, 403, 200, 200)),
    ),
    "add to queue": (
        Call("POST", room_path("/queue"), lambda w: {"spotify_id": w.spare_spotify_id}),
        statuses((401, 403, 403, 201), (401, 403, 403, 201)),
    ),
    "remove from queue": (
        Call("DELETE", lambda w: f"/rooms/{w.room['id']}/queue/{w.entry_id}"),
        statuses((401, 403, 403, 200), (401, 403, 403, 200)),
    ),
    "move in queue": (
        Call(
            "POST",
            lambda w: f"/rooms/{w.room['id']}/queue/{w.entry_id}/move",
            lambda w: {"index": 0},
        ),
        statuses((401, 403, 403, 200), (401, 403, 403, 200)),
    ),
    "read chat": (
        Call("GET", lambda w: f"/chat/{w.room['id']}?limit=10"),
        statuses((200,) * 4, (401, 403, 200, 200)),
    ),
    "post to chat": (
        Call("POST", lambda w: f"/chat/{w.room['id']}", lambda w: {"text": "hi"}),
        statuses((401, 403, 201, 201), (401, 403, 201, 201)),
    ),
}

CELLS = [
    (name, privacy, role) for name in MATRIX for privacy in ("public", "private") for role in ROLES
]


@pytest.mark.parametrize(("name", "privacy", "role"), CELLS)
async def test_authorization_cell(
    name: str,
    privacy: str,
    role: str,
    client: httpx.AsyncClient,
    session: AsyncSession,
    sign_in: SignIn,
    create_room: CreateRoom,
) -> None:
    owner, member, stranger = await sign_in("owner"), await sign_in("member"), await sign_in("x")
    private = privacy == "private"
    fields: dict[str, Any] = {"is_private": True, "password": PASSWORD} if private else {}
    room = await create_room(owner, f"{name} {privacy} {role}", **fields)
    join_body = {"password": PASSWORD} if private else None
    joined = await client.post(f"/rooms/{room['id']}/join", json=join_body, headers=member.headers)
    assert joined.status_code == 200, joined.text
    queued_track, spare_track = await create_track(session), await create_track(session)
    await session.commit()
    added = await client.post(
        f"/rooms/{room['id']}/queue",
        json={"spotify_id": queued_track.spotify_id},
        headers=owner.headers,
    )
    assert added.status_code == 201, added.text
    posted = await client.post(f"/chat/{room['id']}", json={"text": "hello"}, headers=owner.headers)
    assert posted.status_code == 201, posted.text
    world = World(room, added.json()["association_id"], spare_track.spotify_id, private)

    actor: SignedIn | None = {"owner": owner, "member": member, "non_member": stranger}.get(role)
    call, expected = MATRIX[name]
    body = call.body(world) if call.body else None
    response = await client.request(
        call.method,
        call.path(world),
        json=body,
        headers=actor.headers if actor else {},
    )
    assert response.status_code == expected[(privacy, role)], response.text
    assert "detail" in response.json() or response.is_success
