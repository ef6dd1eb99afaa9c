"""Every error body carries a stable ``code`` (and ``retry_after_s`` on 429, ``field`` on
invalid input), so clients can say what went wrong in the user's language."""

from __future__ import annotations

import uuid

import httpx
import pytest

from api.chat.service import MESSAGES_PER_WINDOW
from api.core.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    validation_field,
)
from api.rooms.service import JOIN_FAILURES_ALLOWED
from tests.support.people import CreateRoom, SignIn


def test_each_error_class_has_a_default_code_and_raise_sites_may_name_a_specific_one() -> None:
    assert NotFound("x").body() == {"detail": "x", "code": "not_found"}
    assert NotFound("room not found", code="room_not_found").body()["code"] == "room_not_found"
    assert Forbidden().code == "forbidden"
    assert Conflict().code == "conflict"
    assert Unauthorized().code == "not_authenticated"
    assert Unprocessable("bad", field="genres").body() == {
        "detail": "bad",
        "code": "invalid_input",
        "field": "genres",
    }
    limited = TooManyRequests("slow down", retry_after_s=0)
    assert limited.body() == {"detail": "slow down", "code": "rate_limited", "retry_after_s": 1}
    assert limited.headers == {"Retry-After": "1"}
    # The class default is not changed by an instance's code.
    assert NotFound().code == "not_found"


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (["path", "room_id"], "room_id"),
        (["body", "genres", 2], "genres"),
        (["body"], None),
        (["query", "limit"], "limit"),
        ("nonsense", None),
    ],
)
def test_the_field_of_a_validation_error_is_the_last_name_in_its_location(
    loc: object, field: str | None
) -> None:
    assert validation_field(loc) == field


async def test_an_unknown_room_and_a_malformed_room_id(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/rooms/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "room_not_found"
    malformed = await client.get("/rooms/not-a-uuid")
    assert malformed.status_code == 422
    body = malformed.json()
    assert body["code"] == "invalid_input"
    assert body["field"] == "room_id"
    assert isinstance(body["detail"], list)


async def test_body_validation_names_the_field(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    response = await client.post("/rooms/", json={"name": ""}, headers=alice.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert response.json()["field"] == "name"


async def test_wrong_password_then_locked_with_retry_after(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Secret", is_private=True, password="hunter22")
    url = f"/rooms/{room['id']}/join"
    for _ in range(JOIN_FAILURES_ALLOWED):
        wrong = await client.post(url, json={"password": "nope"}, headers=bob.headers)
        assert wrong.status_code == 403
        assert wrong.json()["code"] == "wrong_password"
    locked = await client.post(url, json={"password": "hunter22"}, headers=bob.headers)
    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "password_locked"
    assert body["retry_after_s"] == int(locked.headers["retry-after"]) >= 1
    # Inside a private room one is not a member of.
    members = await client.get(f"/rooms/{room['id']}/members", headers=bob.headers)
    assert members.status_code == 403
    assert members.json()["code"] == "not_a_member"


async def test_chat_rate_limit_and_not_a_member(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Lounge")
    outsider = await client.post(f"/chat/{room['id']}", json={"text": "hi"}, headers=bob.headers)
    assert outsider.status_code == 403
    assert outsider.json()["code"] == "not_a_member"
    for number in range(MESSAGES_PER_WINDOW):
        sent = await client.post(
            f"/chat/{room['id']}", json={"text": f"m{number}"}, headers=alice.headers
        )
        assert sent.status_code == 201, sent.text
    refused = await client.post(
        f"/chat/{room['id']}", json={"text": "one too many"}, headers=alice.headers
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["retry_after_s"] == int(refused.headers["retry-after"])
    left = await client.post(f"/rooms/{room['id']}/leave", headers=bob.headers)
    assert left.status_code == 409
    assert left.json()["code"] == "not_a_member"


async def test_owner_only_name_taken_and_empty_queue(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    room = await create_room(alice, "Mine")
    taken = await client.post("/rooms/", json={"name": "mine"}, headers=bob.headers)
    assert (taken.status_code, taken.json()["code"]) == (409, "room_name_taken")
    await client.post(f"/rooms/{room['id']}/join", headers=bob.headers)
    edit = await client.delete(f"/rooms/{room['id']}", headers=bob.headers)
    assert (edit.status_code, edit.json()["code"]) == (403, "owner_only")
    play = await client.post(
        f"/rooms/{room['id']}/playback", json={"action": "play"}, headers=alice.headers
    )
    assert (play.status_code, play.json()["code"]) == (404, "queue_empty")


async def test_framework_errors_and_auth_errors_have_codes(client: httpx.AsyncClient) -> None:
    no_route = await client.get("/no/such/route")
    assert no_route.json() == {"detail": "Not Found", "code": "not_found"}
    wrong_method = await client.delete("/genres")
    assert wrong_method.json()["code"] == "method_not_allowed"
    unauthenticated = await client.get("/users/me")
    assert unauthenticated.json()["code"] == "not_authenticated"
    bad_token = await client.get("/users/me", headers={"Authorization": "Bearer nope"})
    assert (bad_token.status_code, bad_token.json()["code"]) == (401, "invalid_token")
