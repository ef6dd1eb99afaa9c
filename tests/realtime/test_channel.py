"""Frames on one process: clock pings, resume, bad frames, flood control, slow readers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from typing import Any

from api.core.redis import get_redis
from api.realtime.events import publish
from tests.realtime.conftest import NoteFrame, StartApis
from tests.support.live import (
    ApiProcess,
    LiveData,
    api_call,
    join_room,
    live_client,
    make_room,
    presence_changes,
)
from tests.support.workers import until


async def test_pings_are_answered_with_server_receive_and_send_times(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)
    async with live_client(shared_api, room_id, owner.token) as client:
        before = time.time() * 1000
        await client.send({"type": "ping", "t0": 123.5})
        pong = await client.wait_type("pong")
        after = time.time() * 1000
        assert pong["t0"] == 123.5
        assert before - 5 <= pong["t1"] <= pong["t2"] <= after + 5


async def test_resume_sends_every_missed_message_in_order_without_duplicates(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)

    async def post(text: str) -> None:
        response = await api_call(
            shared_api, "POST", f"/chat/{room_id}", owner, json={"text": text}
        )
        assert response.status_code == 201, response.text

    async with live_client(shared_api, room_id, owner.token) as client:
        for n in range(1, 4):
            await post(f"m{n}")
        await client.wait_type("message", seq=3)
    # Missed while disconnected.
    for n in range(4, 8):
        await post(f"m{n}")

    async with live_client(shared_api, room_id, owner.token) as client:
        assert client.of_type("hello")[0]["last_seq"] == 7
        await client.send({"type": "resume", "after_seq": 3})
        # More messages while the resume is served.
        await asyncio.gather(post("m8"), post("m9"))
        await client.wait_type("message", seq=9)
        resumed = await client.wait_type("resumed")
        assert resumed["after_seq"] == 3
        assert resumed["count"] >= 4
        await client.barrier()  # nothing else (a duplicate) was queued before it
        seqs = [frame["seq"] for frame in client.of_type("message")]
        assert seqs == list(range(4, 10))
        texts = [frame["text"] for frame in client.of_type("message")]
        # m8 and m9 were posted concurrently: either may take seq 8.
        assert texts[:4] == ["m4", "m5", "m6", "m7"]
        assert sorted(texts[4:]) == ["m8", "m9"]


async def test_chat_over_the_socket_is_idempotent_and_validated(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)
    async with live_client(shared_api, room_id, owner.token) as client:
        await client.send({"text": "  once  ", "client_id": "same-id"})
        first = await client.wait_type("message", seq=1)
        assert first["text"] == "once"
        await client.send({"text": "once", "client_id": "same-id"})
        await client.send({"text": "two"})
        await client.wait_type("message", seq=2)
        resends = [f for f in client.of_type("message") if f["client_id"] == "same-id"]
        # The resend answers with the stored message; no new seq was used.
        assert {f["seq"] for f in resends} == {1}
        await client.send({"text": "   ", "client_id": "blank"})
        error = await client.wait_type("error", client_id="blank")
        assert error["code"] == "bad_frame"
        await client.send({"text": "x" * 2001})
        await client.wait_for(lambda f: f.get("type") == "error" and "2000" in str(f["detail"]))
    history = await api_call(shared_api, "GET", f"/chat/{room_id}", params={"limit": 10})
    assert [m["text"] for m in history.json()] == ["two", "once"]


async def test_bad_frames_get_errors_and_the_connection_carries_on(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)
    async with live_client(shared_api, room_id, owner.token) as client:
        bad = [
            "not json",
            "[1, 2]",
            json.dumps({"type": "dance"}),
            json.dumps({"type": "ping"}),
            json.dumps({"type": "ping", "t0": True}),
            json.dumps({"type": "resume", "after_seq": -1}),
            json.dumps({"type": "seek"}),
        ]
        for frame in bad:
            await client.send(frame)
        await client.ws.send(b"\x00binary")
        await client.send({"type": "ping", "t0": 1})
        await client.wait_type("pong")
        await client.barrier()  # the worker's replies (the seek's error) are in too
        errors = client.of_type("error")
        assert len(errors) == len(bad) + 1
        assert {error["code"] for error in errors} == {"bad_frame"}


async def test_the_chat_rate_limit_answers_with_an_error_and_retry_after(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)
    async with live_client(shared_api, room_id, owner.token) as client:
        for n in range(11):
            await client.send({"text": f"n{n}", "client_id": f"c{n}"})
        error = await client.wait_type("error", client_id="c10")
        assert error["code"] == "rate_limited"
        assert error["retry_after_s"] >= 1
        await client.wait_type("message", seq=10)
        assert len(client.of_type("message")) == 10


async def test_leaving_the_room_over_rest_closes_that_users_sockets(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    guest = await live.person("guest")
    room_id = await make_room(shared_api, owner)
    async with (
        live_client(shared_api, room_id, owner.token) as staying,
        live_client(shared_api, room_id, guest.token) as leaving,
    ):
        left = await api_call(shared_api, "POST", f"/rooms/{room_id}/leave", guest)
        assert left.status_code == 200
        assert await leaving.wait_closed() == (4403, "left the room")
        await staying.wait_type("member_left", user_id=str(guest.user.id))
        await staying.send({"text": "carry on"})
        await staying.wait_type("message", text="carry on")
        assert staying.close_code is None


async def test_frames_over_the_size_limit_close_the_connection(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    watcher = await live.person("watcher")
    room_id = await make_room(shared_api, owner)
    async with (
        live_client(shared_api, room_id, watcher.token) as other,
        live_client(shared_api, room_id, owner.token) as client,
    ):
        await client.send({"text": "x" * 17_000})
        code, reason = await client.wait_closed()
        assert code == 4413
        assert reason == "frame too large (limit 16384 bytes)"
        # The room carries on.
        await other.send({"text": "still fine"})
        await other.wait_type("message", text="still fine")


async def test_flooding_is_refused_then_closed(shared_api: ApiProcess, live: LiveData) -> None:
    owner = await live.person("owner")
    room_id = await make_room(shared_api, owner)
    async with live_client(shared_api, room_id, owner.token) as client:
        # The burst (40 frames) passes; the rest of a 60-frame volley is refused.
        for n in range(60):
            await client.send({"type": "ping", "t0": n})
        await client.wait_until(
            lambda: len(client.of_type("pong")) + len(client.of_type("error")) >= 60
        )
        pongs, errors = client.of_type("pong"), client.of_type("error")
        assert 40 <= len(pongs) < 50
        assert len(pongs) + len(errors) == 60
        assert client.close_code is None
        # Keep going: more than 20 refusals within 5 s close the connection.
        for n in range(30):
            await client.send({"type": "ping", "t0": n})
        code, reason = await client.wait_closed()
        assert (code, reason) == (4429, "flooding: too many frames")


def stalled_socket(api: ApiProcess, room_id: str, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads again.

    A tiny receive buffer makes the server's writes back up after a few frames, as they do
    for a phone that went to sleep mid-stream.
    """
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", api.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /ws/chat/{room_id}?token={token} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{api.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return raw


def read_to_end(raw: socket.socket) -> int:
    """Drain the socket until the server closes it; the bytes read."""
    total = 0
    while chunk := raw.recv(1 << 16):
        total += len(chunk)
    return total


async def test_a_stalled_reader_is_dropped_and_does_not_slow_the_room(
    start_live_apis: StartApis, live: LiveData
) -> None:
    (api,) = start_live_apis(TUNEWAVE_WS_SEND_QUEUE_FRAMES="8")
    owner = await live.person("owner")
    stalled_user = await live.person("stalled")
    room_id = await make_room(api, owner)
    async with live_client(api, room_id, owner.token) as reader:
        stalled = await asyncio.to_thread(stalled_socket, api, room_id, stalled_user.token)
        try:
            await reader.wait_for(
                lambda f: f.get("type") == "joined" and f["user"]["id"] == str(stalled_user.user.id)
            )
            payload = "y" * 64 * 1024
            started = time.monotonic()
            for n in range(400):
                await publish(get_redis(), room_id, NoteFrame(n=n, pad=payload))
            await reader.wait_for(lambda f: f.get("n") == 399, timeout_s=30)
            elapsed = time.monotonic() - started
            # The room's reader got everything, in order, while the other socket stalled.
            assert [f["n"] for f in reader.of_type("note")] == list(range(400))
            assert elapsed < 15, elapsed
            # The stalled socket was dropped: reported left, and its connection cut.
            left = await reader.wait_type("left", timeout_s=10)
            assert left["user"]["id"] == str(stalled_user.user.id)
            received = await asyncio.to_thread(read_to_end, stalled)
            # It never got anywhere near the 26 MB the room was sent.
            assert received < 12 * 1024 * 1024, received
        finally:
            stalled.close()


async def test_listeners_arriving_and_leaving_mid_track_are_counted_in_its_listening_history(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    guests = [await live.person(f"guest {n}") for n in range(4)]
    room_id = await make_room(shared_api, owner)
    track = await live.track(duration_ms=600_000, title="long one")
    queued = await api_call(
        shared_api, "POST", f"/rooms/{room_id}/queue", owner, json={"spotify_id": track}
    )
    assert queued.status_code == 201, queued.text
    await join_room(shared_api, room_id, guests)
    played = await api_call(
        shared_api, "POST", f"/rooms/{room_id}/playback", owner, json={"action": "play"}
    )
    assert played.status_code == 200, played.text
    entry_id = played.json()["entry_id"]
    base = f"tunewave:listening:{room_id}:{entry_id}"
    redis = get_redis()

    async def marked() -> set[str]:
        return set(await redis.hkeys(f"{base}:marks"))

    ids = {str(guest.user.id) for guest in guests}
    async with contextlib.AsyncExitStack() as stack:
        # Four arrive at once mid-track: all are marked as hearing it (one batch).
        for guest in guests:
            await stack.enter_async_context(live_client(shared_api, room_id, guest.token))

        async def all_marked() -> bool:
            return ids <= await marked()

        await until(all_marked, 5, "every arrival marked as hearing the track")
        # They listen for a stretch: what the heard counts below must include.
        await asyncio.sleep(0.3)
    # They all left: their stretch is counted as heard and their marks are gone.

    async def all_counted() -> bool:
        heard = await redis.hgetall(f"{base}:heard")
        return not (ids & await marked()) and set(heard) >= ids

    await until(all_counted, 5, "every departure counted as heard")
    heard = {k: int(v) for k, v in (await redis.hgetall(f"{base}:heard")).items()}
    assert all(heard[user] >= 300 for user in ids), heard


async def test_arrivals_together_reach_the_room_as_one_presence_batch_before_later_events(
    shared_api: ApiProcess, live: LiveData
) -> None:
    owner = await live.person("owner")
    guests = [await live.person(f"arrival {n}") for n in range(6)]
    room_id = await make_room(shared_api, owner)
    await join_room(shared_api, room_id, guests)
    ids = [str(guest.user.id) for guest in guests]
    async with live_client(shared_api, room_id, owner.token) as watcher:
        await watcher.wait_for(
            lambda f: f.get("type") == "joined" and f["user"]["id"] == str(owner.user.id)
        )
        start = len(watcher.received)
        async with contextlib.AsyncExitStack() as stack:
            await asyncio.gather(
                *(
                    stack.enter_async_context(live_client(shared_api, room_id, guest.token))
                    for guest in guests
                )
            )
            # Every arrival was announced before its hello; the message comes after them.
            posted = await api_call(
                shared_api, "POST", f"/chat/{room_id}", owner, json={"text": "welcome"}
            )
            assert posted.status_code == 201, posted.text
            await watcher.wait_type("message", text="welcome")
        kinds = ("joined", "presence", "message")
        wire = [f for f in watcher.received[start:] if f["type"] in kinds]
    guest_ids = set(ids)

    def guests_in(frame: dict[str, Any]) -> list[str]:
        return [e["user"]["id"] for e in presence_changes(frame) if e["user"]["id"] in guest_ids]

    # Every arrival was announced once, all before the message that followed them (the owner
    # may be announced again meanwhile: a presence refresh that had to re-add them).
    message_at = next(n for n, f in enumerate(wire) if f["type"] == "message")
    before = [frame for frame in wire[:message_at] if guests_in(frame)]
    assert sorted(g for frame in before for g in guests_in(frame)) == sorted(ids), wire
    assert not any(guests_in(frame) for frame in wire[message_at:]), wire
    batches = [f for f in before if f["type"] == "presence"]
    assert batches, wire
    assert all(len(f["events"]) >= 2 for f in batches), wire
    assert all(e["type"] == "joined" for f in batches for e in f["events"]), wire
    # Six arrivals cost the watcher fewer frames than six.
    assert len(before) < len(guests), wire
