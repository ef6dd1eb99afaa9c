"""The security review's live-channel findings (issue 12), against real API processes."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from api.core.config import Settings
from api.models import RoomMember
from tests.realtime.conftest import api_env
from tests.support.live import (
    ApiProcess,
    LiveClient,
    LiveData,
    Person,
    api_call,
    live_client,
    make_room,
    refusal,
    spawn_api,
)
from tests.support.processes import wait_for


def short_token(settings: Settings, user_id: uuid.UUID, lives_s: float) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(seconds=lives_s),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)


async def ticket_for(api: ApiProcess, who: Person | str) -> str:
    headers = who.headers if isinstance(who, Person) else {"Authorization": f"Bearer {who}"}
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
        response = await client.post("/auth/ws-ticket", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 < body["expires_in"] <= 30
    assert response.headers["cache-control"] == "no-store"
    return str(body["ticket"])


@contextlib.asynccontextmanager
async def ticket_client(
    api: ApiProcess, room_id: str, ticket: str, *, wait_hello: bool = True
) -> AsyncIterator[LiveClient]:
    ws = await connect(f"{api.ws_url}/ws/chat/{room_id}?ticket={ticket}", open_timeout=10)
    client = LiveClient(ws)
    client.start()
    try:
        if wait_hello:
            await client.wait_type("hello")
        yield client
    finally:
        await client.close()


# --- 1: tokens never reach the logs; browsers use single-use tickets -----------------------


async def test_tickets_open_the_channel_once(shared_api: ApiProcess, live: LiveData) -> None:
    owner = await live.person("ticket owner")
    room_id = await make_room(shared_api, owner)
    ticket = await ticket_for(shared_api, owner)
    async with ticket_client(shared_api, room_id, ticket) as client:
        assert client.of_type("hello")[0]["user_id"] == str(owner.user.id)
    # Spent: the same ticket opens nothing a second time, nor does a made-up one.
    for used in (ticket, "made-up", "x" * 500):
        async with ticket_client(shared_api, room_id, used, wait_hello=False) as client:
            assert await client.wait_closed() == (4401, "invalid or used ticket")
    # A ticket needs a signed-in caller.
    anonymous = await api_call(shared_api, "POST", "/auth/ws-ticket")
    assert anonymous.status_code == 401


async def test_tokens_and_tickets_never_reach_the_logs(
    live_database: AsyncEngine, live: LiveData, tmp_path: Path
) -> None:
    # INFO, as in production: uvicorn logs every WebSocket handshake with its URL there.
    api = spawn_api(api_env(), tmp_path / "api.log", log_level="info")
    try:
        api.wait_ready()
        owner = await live.person("logged")
        room_id = await make_room(api, owner)
        async with live_client(api, room_id, owner.token) as client:
            await client.send({"text": "hello"})
            await client.wait_type("message")
        ticket = await ticket_for(api, owner)
        async with ticket_client(api, room_id, ticket):
            pass
        async with httpx.AsyncClient(base_url=api.url) as http:
            await http.get(f"/rooms/{room_id}?token={owner.token}&code=oauth-code-secret")
        wait_for(lambda: "WebSocket /ws/chat/" in api.log(), 10, "the handshake log lines")
    finally:
        api.stop()
    log = api.log()
    assert "WebSocket /ws/chat/" in log
    assert owner.token not in log
    assert owner.token.split(".")[2] not in log
    assert ticket not in log
    assert "oauth-code-secret" not in log
    assert "token=[redacted]" in log


# --- 2: the room-password limit counts before it checks ------------------------------------


async def guess(api: ApiProcess, who: Person, room_id: str, password: str, address: str) -> int:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: each guesser its own address.
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        response = await client.post(
            f"/rooms/{room_id}/join",
            json={"password": password},
            headers={**who.headers, "X-Forwarded-For": address},
        )
    return response.status_code


async def test_concurrent_password_guesses_are_counted_before_checking(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("vault owner")
    room_id = await make_room(shared_api, owner, is_private=True, password="the right one")
    guesser = await live.person("guesser")
    passwords = [f"wrong {n}" for n in range(19)] + ["the right one"]
    statuses = await asyncio.gather(
        *(guess(shared_api, guesser, room_id, p, "10.1.0.1") for p in passwords)
    )
    checked = [status for status in statuses if status != 429]
    assert len(checked) <= 5, statuses
    assert set(checked) <= {200, 403}


async def test_fresh_accounts_get_no_fresh_tries_on_a_room(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("vault owner")
    room_id = await make_room(shared_api, owner, is_private=True, password="the right one")
    guessers = [await live.person(f"sock puppet {n}") for n in range(26)]
    statuses = await asyncio.gather(
        *(
            guess(shared_api, who, room_id, "wrong", f"10.2.{n}.1")
            for n, who in enumerate(guessers[:25])
        )
    )
    assert len([status for status in statuses if status != 429]) <= 20, statuses
    # The room is locked for everyone now, the right password included.
    assert await guess(shared_api, guessers[25], room_id, "the right one", "10.3.0.1") == 429


async def test_one_address_gets_a_limit_across_accounts(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("vault owner")
    room_id = await make_room(shared_api, owner, is_private=True, password="the right one")
    guessers = [await live.person(f"same address {n}") for n in range(12)]
    statuses = await asyncio.gather(
        *(guess(shared_api, who, room_id, "wrong", "10.4.0.1") for who in guessers)
    )
    assert len([status for status in statuses if status != 429]) <= 10, statuses
    # Another address still gets its tries; a right password costs nothing.
    assert await guess(shared_api, guessers[0], room_id, "the right one", "10.4.0.2") == 200


# --- 3: a deleted account's sockets close on every process ---------------------------------


async def test_deleting_an_account_closes_its_sockets_on_every_process(
    api_pair: list[ApiProcess], live: LiveData
) -> None:
    first, second = api_pair
    owner = await live.person("room owner")
    leaving = await live.person("leaving for good")
    room_id = await make_room(first, owner, is_private=True, password="members only")
    joined = await api_call(
        first, "POST", f"/rooms/{room_id}/join", leaving, json={"password": "members only"}
    )
    assert joined.status_code == 200
    async with (
        live_client(first, room_id, leaving.token) as on_first,
        live_client(second, room_id, leaving.token) as on_second,
    ):
        deleted = await api_call(second, "DELETE", "/users/me", leaving)
        assert deleted.status_code in (200, 204), deleted.text
        for client in (on_first, on_second):
            code, _ = await client.wait_closed(timeout_s=10)
            assert code == 4403
    async with live.session() as session:
        member = await session.scalar(
            select(RoomMember).where(RoomMember.user_id == leaving.user.id)
        )
    assert member is None


# --- 4: a socket lives no longer than its token --------------------------------------------


async def test_sockets_close_when_their_token_expires(
    shared_api: ApiProcess, live: LiveData, settings: Settings
) -> None:
    owner = await live.person("short lived")
    room_id = await make_room(shared_api, owner)
    token = short_token(settings, owner.user.id, lives_s=4)
    ticket = await ticket_for(shared_api, token)
    async with (
        live_client(shared_api, room_id, token) as by_token,
        ticket_client(shared_api, room_id, ticket) as by_ticket,
    ):
        for client in (by_token, by_ticket):
            assert await client.wait_closed(timeout_s=15) == (4402, "token expired")
    # A ticket cannot stretch an expired token, and the token is refused on its own.
    assert await refusal(shared_api, room_id, token) == (4402, "token expired", [])


# --- 8-10: every client frame is bounded ---------------------------------------------------


async def test_malformed_frames_are_bad_frames_and_the_socket_stays_open(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("fuzzer")
    room_id = await make_room(shared_api, owner)
    frames: list[str | dict[str, Any]] = [
        "[" * 8000 + "]" * 8000,
        '{"type": "resume", "after_seq": ' + "[" * 5000 + "]" * 5000 + "}",
        {"type": "resume", "after_seq": 2**63},
        {"type": "resume", "after_seq": 10**30},
        {"type": "seek", "position_ms": 2**40},
        {"type": "pause", "version": 2**63},
        {"type": "pause", "version": -1},
        '{"type": "ping", "t0": 1e400}',
        '{"type": "ping", "t0": NaN}',
        '{"type": "ping", "t0": -Infinity}',
        {"type": "ping", "t0": 10**400},
        {"type": "ping", "t0": True},
    ]
    async with live_client(shared_api, room_id, owner.token) as client:
        for n, frame in enumerate(frames, start=1):
            await client.send(frame)
            await client.wait_for(
                lambda _, answered=n: len(client.of_type("error")) >= answered, timeout_s=10
            )
        errors = client.of_type("error")
        assert [error["code"] for error in errors] == ["bad_frame"] * len(frames), errors
        # Still open and serving: a valid ping gets a pong that is plain JSON.
        await client.send({"type": "ping", "t0": 1234.5})
        pong = await client.wait_type("pong")
        assert pong["t0"] == 1234.5
        assert all(math.isfinite(pong[key]) for key in ("t0", "t1", "t2"))
        assert client.close_code is None


# --- 11: sockets per user are capped -------------------------------------------------------


async def test_sockets_per_user_are_capped_across_rooms(
    shared_api: ApiProcess, live: LiveData, settings: Settings
) -> None:
    owner = await live.person("many tabs")
    rooms = [await make_room(shared_api, owner) for _ in range(2)]
    cap = settings.ws_max_sockets_per_user
    async with contextlib.AsyncExitStack() as stack:
        for n in range(cap):
            await stack.enter_async_context(live_client(shared_api, rooms[n % 2], owner.token))
        assert await refusal(shared_api, rooms[0], owner.token) == (
            4409,
            f"too many connections (limit {cap} per user)",
            [],
        )
        other = await live.person("someone else")
        async with live_client(shared_api, rooms[0], other.token) as client:
            assert client.of_type("hello")
    # Closing sockets gives their slots back.
    async with live_client(shared_api, rooms[1], owner.token) as client:
        assert client.of_type("hello")
