from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.chat.service import MESSAGES_PER_WINDOW
from api.core.config import get_settings
from api.models import Message, Room
from tests.chat.conftest import AddMessages, CreateRoom, SignIn, post
from tests.factories import auth_headers


async def test_member_posts_and_everyone_reads_a_public_room(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, session: AsyncSession
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")
    before = (await session.get_one(Room, uuid.UUID(room["id"]))).last_activity_at

    response = await post(client, alice, room["id"], "  hello there \n")

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "room_id", "seq", "user", "text", "client_id", "created_at"}
    assert body["room_id"] == room["id"]
    assert body["seq"] == 1
    assert body["text"] == "hello there"
    assert body["client_id"] is None
    assert body["user"] == {
        "id": str(alice.user.id),
        "display_name": "alice",
        "avatar_url": None,
        "is_demo": False,
    }
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    stored = await session.scalar(
        select(Room)
        .where(Room.id == uuid.UUID(room["id"]))
        .execution_options(populate_existing=True)
    )
    assert stored is not None
    assert stored.last_message_seq == 1
    assert stored.last_activity_at > before

    second = await post(client, alice, room["id"], "again")
    assert second.json()["seq"] == 2

    history = await client.get(f"/chat/{room['id']}", params={"limit": 10})
    assert history.status_code == 200
    assert [m["text"] for m in history.json()] == ["again", "hello there"]
    assert history.json()[1] == body


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {"text": "   \n\t "},
        {"text": "x" * 2001},
        {"text": "  " + "x" * 2001 + "  "},
        {"text": 123},
        {"text": None},
        {"text": ["hi"]},
        {},
        {"text": "hi", "extra": 1},
        {"text": "nul\x00byte"},
        {"text": "hi", "client_id": ""},
        {"text": "hi", "client_id": "x" * 65},
        {"text": "hi", "client_id": "has space"},
        {"text": "hi", "client_id": 5},
        [],
        "text",
    ],
)
async def test_bad_message_bodies_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, payload: object
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")

    response = await client.post(f"/chat/{room['id']}", json=payload, headers=alice.headers)

    assert response.status_code == 422, response.text
    assert "detail" in response.json()


async def test_unstorable_text_is_422(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")

    # Valid JSON, but a lone surrogate has no UTF-8 form and PostgreSQL refuses NUL.
    for raw in (b'{"text": "lone \\ud800 surrogate"}', b'{"text": "a\\u0000b"}'):
        response = await client.post(
            f"/chat/{room['id']}",
            content=raw,
            headers={**alice.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text


async def test_text_limits_count_after_trimming(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")

    response = await post(client, alice, room["id"], "   " + "é" * 2000 + "   ")

    assert response.status_code == 201, response.text
    assert response.json()["text"] == "é" * 2000


async def test_who_may_post(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    public = await create_room(alice, "Public")
    private = await create_room(alice, "Private", is_private=True, password="secret")

    anonymous = await client.post(f"/chat/{public['id']}", json={"text": "hi"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    # A public room is readable by anyone, but talking needs joining first.
    assert (await post(client, bob, public["id"], "hi")).status_code == 403
    assert (await post(client, bob, private["id"], "hi")).status_code == 403
    assert (await post(client, bob, str(uuid.uuid4()), "hi")).status_code == 404
    assert (await post(client, bob, "not-a-uuid", "hi")).status_code == 422
    # A valid token of a user who no longer exists: 401 before anything about the room.
    gone = auth_headers(get_settings(), uuid.uuid4())
    for room_id in (public["id"], str(uuid.uuid4())):
        refused = await client.post(f"/chat/{room_id}", json={"text": "hi"}, headers=gone)
        assert refused.status_code == 401
        assert refused.json() == {"detail": "unknown user", "code": "invalid_token"}

    joined = await client.post(f"/rooms/{public['id']}/join", headers=bob.headers)
    assert joined.status_code == 200
    assert (await post(client, bob, public["id"], "hi")).status_code == 201


async def test_who_may_read(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    public = await create_room(alice, "Public")
    private = await create_room(alice, "Private", is_private=True, password="secret")
    await post(client, alice, private["id"], "members only")

    for headers in (None, bob.headers):
        readable = await client.get(f"/chat/{public['id']}", params={"limit": 5}, headers=headers)
        assert readable.status_code == 200
    anonymous = await client.get(f"/chat/{private['id']}", params={"limit": 5})
    assert anonymous.status_code == 401
    outsider = await client.get(f"/chat/{private['id']}", params={"limit": 5}, headers=bob.headers)
    assert outsider.status_code == 403
    member = await client.get(f"/chat/{private['id']}", params={"limit": 5}, headers=alice.headers)
    assert member.status_code == 200
    assert [m["text"] for m in member.json()] == ["members only"]
    bad_token = await client.get(
        f"/chat/{public['id']}", params={"limit": 5}, headers={"Authorization": "Bearer x"}
    )
    assert bad_token.status_code == 401
    unknown = await client.get(f"/chat/{uuid.uuid4()}", params={"limit": 5})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "room not found", "code": "room_not_found"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"limit": 10, "before_seq": 0},
        {"limit": 10, "before_seq": 2**63},
        {"limit": 10, "before_seq": "x"},
        {"limit": 10, "before_timestamp": "yesterday"},
        {"limit": 10, "before_timestamp": "2026-13-01T00:00:00Z"},
    ],
)
async def test_bad_history_queries_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, params: dict
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")

    response = await client.get(f"/chat/{room['id']}", params=params)

    assert response.status_code == 422, response.text


async def test_timestamps_are_compared_in_utc(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, add_messages: AddMessages
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")
    _, second = await add_messages(uuid.UUID(room["id"]), alice.user, 2)

    async def seqs_before(before: str) -> list[int]:
        response = await client.get(
            f"/chat/{room['id']}", params={"limit": 10, "before_timestamp": before}
        )
        assert response.status_code == 200, response.text
        return [message["seq"] for message in response.json()]

    utc = second.created_at.astimezone(UTC)
    assert await seqs_before(utc.isoformat()) == [1]
    # The same instant written with another offset, and naive (read as UTC).
    assert await seqs_before(utc.astimezone(timezone(timedelta(hours=5))).isoformat()) == [1]
    assert await seqs_before(utc.replace(tzinfo=None).isoformat()) == [1]
    assert await seqs_before("9999-12-31T23:59:59") == [2, 1]
    assert await seqs_before("0001-01-01T00:00:00Z") == []


@pytest.mark.parametrize("before", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_timestamps_outside_the_utc_range_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, before: str
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")

    response = await client.get(
        f"/chat/{room['id']}", params={"limit": 10, "before_timestamp": before}
    )

    assert response.status_code == 422, response.text


async def test_pages_by_seq_cover_everything_once(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, add_messages: AddMessages
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")
    await add_messages(uuid.UUID(room["id"]), alice.user, 7)

    pages: list[list[int]] = []
    params: dict[str, int | str] = {"limit": 3}
    while True:
        response = await client.get(f"/chat/{room['id']}", params=params)
        assert response.status_code == 200
        page = [message["seq"] for message in response.json()]
        if not page:
            break
        pages.append(page)
        params = {"limit": 3, "before_seq": page[-1]}

    assert pages == [[7, 6, 5], [4, 3, 2], [1]]


async def test_pages_by_timestamp_cover_everything_once(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, add_messages: AddMessages
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")
    await add_messages(uuid.UUID(room["id"]), alice.user, 7)

    seqs: list[int] = []
    params: dict[str, int | str] = {"limit": 2}
    while True:
        response = await client.get(f"/chat/{room['id']}", params=params)
        assert response.status_code == 200
        page = response.json()
        if not page:
            break
        seqs += [message["seq"] for message in page]
        # The created_at string exactly as received is an exact cursor.
        params = {"limit": 2, "before_timestamp": page[-1]["created_at"]}

    assert seqs == [7, 6, 5, 4, 3, 2, 1]


async def test_created_at_grows_with_seq_even_when_the_clock_does_not(
    client: httpx.AsyncClient,
    sign_in: SignIn,
    create_room: CreateRoom,
    add_messages: AddMessages,
    session: AsyncSession,
) -> None:
    alice = await sign_in("alice")
    room = await create_room(alice, "Lounge")
    room_id = uuid.UUID(room["id"])
    [first] = await add_messages(room_id, alice.user, 1)
    # As if the server clock had stepped back an hour since the first message.
    ahead = first.created_at + timedelta(hours=1)
    await session.execute(update(Message).where(Message.id == first.id).values(created_at=ahead))
    await session.commit()

    second = await post(client, alice, room["id"], "after the clock stepped back")
    third = await post(client, alice, room["id"], "and another")

    created = [datetime.fromisoformat(r.json()["created_at"]) for r in (second, third)]
    assert created[0] == ahead + timedelta(microseconds=1)
    assert created[1] == ahead + timedelta(microseconds=2)
    history = await client.get(f"/chat/{room['id']}", params={"limit": 10})
    assert [m["seq"] for m in history.json()] == [3, 2, 1]
    older = await client.get(
        f"/chat/{room['id']}",
        params={"limit": 10, "before_timestamp": third.json()["created_at"]},
    )
    assert [m["seq"] for m in older.json()] == [2, 1]


async def test_a_resend_with_the_same_client_id_returns_the_stored_message(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Lounge")
    await client.post(f"/rooms/{room['id']}/join", headers=bob.headers)

    first = await post(client, alice, room["id"], "hello", client_id="c-1")
    resend = await post(client, alice, room["id"], "hello", client_id="c-1")
    bobs = await post(client, bob, room["id"], "hello", client_id="c-1")
    next_one = await post(client, alice, room["id"], "next", client_id="c-2")

    assert first.status_code == 201
    assert first.json()["client_id"] == "c-1"
    assert resend.status_code == 200
    assert resend.json() == first.json()
    # client ids are per sender: the same id from someone else is a new message.
    assert bobs.status_code == 201
    assert bobs.json()["seq"] == 2
    # The resend consumed no sequence number.
    assert next_one.json()["seq"] == 3
    history = await client.get(f"/chat/{room['id']}", params={"limit": 10})
    assert [m["seq"] for m in history.json()] == [3, 2, 1]
    # Without a client_id nothing is a resend: the same text twice is two messages.
    plain = [await post(client, alice, room["id"], "same") for _ in range(2)]
    assert [r.status_code for r in plain] == [201, 201]
    assert [r.json()["seq"] for r in plain] == [4, 5]


async def test_posting_is_rate_limited_per_user_and_room(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Lounge")
    other = await create_room(alice, "Other")
    await client.post(f"/rooms/{room['id']}/join", headers=bob.headers)

    for number in range(MESSAGES_PER_WINDOW):
        response = await post(client, alice, room["id"], f"m{number}", client_id=f"id-{number}")
        assert response.status_code == 201, response.text

    refused = await post(client, alice, room["id"], "one too many")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert "too many messages" in refused.json()["detail"]
    # A resend of a stored message is not a new message: it is still answered.
    assert (await post(client, alice, room["id"], "m0", client_id="id-0")).status_code == 200
    assert (await post(client, bob, room["id"], "bob is fine")).status_code == 201
    assert (await post(client, alice, other["id"], "other room is fine")).status_code == 201
    history = await client.get(f"/chat/{room['id']}", params={"limit": 100})
    assert len(history.json()) == MESSAGES_PER_WINDOW + 1


async def test_a_deleted_users_messages_stay_anonymised(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Lounge")
    await client.post(f"/rooms/{room['id']}/join", headers=bob.headers)
    await post(client, bob, room["id"], "bye all")
    await post(client, alice, room["id"], "bye bob")

    assert (await client.delete("/users/me", headers=bob.headers)).status_code == 200

    history = (await client.get(f"/chat/{room['id']}", params={"limit": 10})).json()
    assert [(m["text"], m["user"]) for m in history] == [
        (
            "bye bob",
            {
                "id": str(alice.user.id),
                "display_name": "alice",
                "avatar_url": None,
                "is_demo": False,
            },
        ),
        ("bye all", None),
    ]


async def test_a_demo_authors_new_message_says_so_as_its_history_does(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom, session: AsyncSession
) -> None:
    host = await sign_in("demo host")
    host.user.is_demo = True
    await session.flush()
    room = await create_room(host, "Demo lounge")

    posted = await post(client, host, room["id"], "welcome")
    assert posted.status_code == 201
    history = (await client.get(f"/chat/{room['id']}", params={"limit": 1})).json()
    assert posted.json()["user"]["is_demo"] is True
    assert history[0]["user"] == posted.json()["user"]
