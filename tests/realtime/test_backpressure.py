"""Send budgets, paged resumes, the reorder window, backpressure and SIGTERM, on real processes."""

from __future__ import annotations

import asyncio
import signal
import struct
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.chat.repository import chat_repository
from api.chat.schemas import MessageFrame
from api.chat.service import chat_service
from api.core.redis import get_redis
from api.realtime.events import publish
from tests.realtime.conftest import NoteFrame, StartApis, api_env
from tests.realtime.test_channel import stalled_socket
from tests.support.live import ApiProcess, LiveData, live_client, make_room, start_api

# One process for the cases that do not stop it: tight budgets, a generous frame rate.
TIGHT = {
    "TUNEWAVE_WS_SEND_QUEUE_FRAMES": "8",
    "TUNEWAVE_WS_REORDER_WINDOW_S": "0.3",
    "TUNEWAVE_WS_FRAMES_PER_S": "1000",
    "TUNEWAVE_WS_FRAME_BURST": "1000",
}


@pytest.fixture(scope="module")
def tight_api(
    live_database: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    api = start_api(api_env(**TIGHT), tmp_path_factory.mktemp("tight") / "api.log")
    yield api
    api.stop()


async def store(live: LiveData, room_id: str, user_id: uuid.UUID, count: int) -> None:
    async with live.session() as session:
        for n in range(count):
            await chat_repository.store(
                session, room_id=uuid.UUID(room_id), user_id=user_id, text=f"m{n}", client_id=None
            )


def close_code_at_end(data: bytes) -> int | None:
    """The code of the close frame that ends ``data`` (server frames: never masked)."""
    offset, code = 0, None
    while offset + 2 <= len(data):
        opcode, length = data[offset] & 0x0F, data[offset + 1] & 0x7F
        offset += 2
        if length == 126:
            (length,) = struct.unpack("!H", data[offset : offset + 2])
            offset += 2
        elif length == 127:
            (length,) = struct.unpack("!Q", data[offset : offset + 8])
            offset += 8
        payload = data[offset : offset + length]
        offset += length
        if opcode == 0x8 and len(payload) >= 2:
            (code,) = struct.unpack("!H", payload[:2])
    return code


def read_all(raw: object) -> bytes:
    import socket

    assert isinstance(raw, socket.socket)
    chunks = []
    while chunk := raw.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_a_reader_that_never_reads_is_closed_with_4408_and_the_room_carries_on(
    start_live_apis: StartApis, live: LiveData
) -> None:
    # Only the bytes budget is tight: the frames stay well under their 256.
    (api,) = start_live_apis(
        TUNEWAVE_WS_SEND_BUDGET_BYTES="65536", TUNEWAVE_WS_SLOW_CONSUMER_GRACE_S="1.5"
    )
    owner = await live.person("owner")
    sleeper = await live.person("sleeper")
    room_id = await make_room(api, owner)
    async with live_client(api, room_id, owner.token) as reader:
        stalled = await asyncio.to_thread(stalled_socket, api, room_id, sleeper.token)
        try:
            await reader.wait_for(
                lambda f: f.get("type") == "joined" and f["user"]["id"] == str(sleeper.user.id)
            )
            # Modest traffic: only the sleeper's bytes pile up.
            pad = "z" * 4096
            for n in range(200):
                await publish(get_redis(), room_id, NoteFrame(n=n, pad=pad))
            await reader.wait_for(lambda f: f.get("n") == 199, timeout_s=30)
            left = await reader.wait_type("left", timeout_s=30)
            assert left["user"]["id"] == str(sleeper.user.id)
            # What the sleeper finds when it wakes up: the frames it had, then 4408 (not the
            # server keepalive's 1011).
            received = await asyncio.to_thread(read_all, stalled)
            assert close_code_at_end(received) == 4408
        finally:
            stalled.close()
        # The healthy reader was not touched.
        await reader.send({"text": "still here"})
        await reader.wait_type("message", text="still here")
        assert reader.close_code is None


async def test_messages_published_out_of_order_reach_sockets_in_order_and_lost_ones_healed(
    tight_api: ApiProcess, live: LiveData
) -> None:
    api = tight_api
    owner = await live.person("owner")
    room_id = await make_room(api, owner)
    async with live_client(api, room_id, owner.token) as client:
        await store(live, room_id, owner.user.id, 3)
        async with live.session() as session:
            views = await chat_service.since(session, uuid.UUID(room_id), after_seq=0, limit=10)
        frames = {view.seq: MessageFrame.from_view(view) for view in views}
        # 3 arrives first, then 1; 2 is never published (a lost pub/sub message).
        await publish(get_redis(), room_id, frames[3])
        await publish(get_redis(), room_id, frames[1])
        await client.wait_type("message", seq=3, timeout_s=10)
        assert [f["seq"] for f in client.of_type("message")] == [1, 2, 3]
        assert client.of_type("message")[1]["text"] == "m1"


async def test_a_resume_of_many_pages_streams_under_the_budget_and_a_failed_one_says_so(
    tight_api: ApiProcess, live: LiveData
) -> None:
    api = tight_api
    owner = await live.person("owner")
    room_id = await make_room(api, owner)
    await store(live, room_id, owner.user.id, 300)
    async with live_client(api, room_id, owner.token) as client:
        await client.send({"type": "resume", "after_seq": 0})
        resumed = await client.wait_type("resumed", timeout_s=60)
        assert resumed == {"type": "resumed", "after_seq": 0, "last_seq": 300, "count": 300}
        assert [f["seq"] for f in client.of_type("message")] == list(range(1, 301))
        assert client.close_code is None

        # PostgreSQL refuses the read (the table is briefly gone): the resume answers an
        # error that names it, and the socket stays open.
        async with live.session() as session:
            await session.execute(text("ALTER TABLE messages RENAME TO messages_away"))
            await session.commit()
        try:
            await client.send({"type": "resume", "after_seq": 0})
            error = await client.wait_type("error", timeout_s=30)
        finally:
            async with live.session() as session:
                await session.execute(text("ALTER TABLE messages_away RENAME TO messages"))
                await session.commit()
        assert error["code"] == "resume_failed"
        assert error["frame"] == "resume"
        assert error["after_seq"] == 0
        await client.send({"type": "ping", "t0": 1})
        await client.wait_type("pong")


async def test_a_client_that_sends_faster_than_it_is_served_is_told_when_to_retry(
    tight_api: ApiProcess, live: LiveData
) -> None:
    api = tight_api
    owner = await live.person("owner")
    room_id = await make_room(api, owner)
    async with live_client(api, room_id, owner.token) as client:
        for n in range(60):
            await client.send({"text": f"fast {n}", "client_id": f"c-{n}"})

        def answers() -> dict[str, dict]:
            return {
                f["client_id"]: f
                for f in client.of_type("message") + client.of_type("error")
                if f.get("client_id")
            }

        # Every frame is answered: stored, or refused with when to try again; never a close.
        await client.wait_for(lambda _: len(answers()) >= 60, timeout_s=30)
        assert set(answers()) == {f"c-{n}" for n in range(60)}
        refused = [f for f in answers().values() if f["type"] == "error"]
        assert refused
        assert all(f["code"] == "rate_limited" and f["retry_after_s"] > 0 for f in refused)
        assert client.close_code is None


async def test_sigterm_closes_every_socket_with_1001_and_the_process_exits_in_time(
    start_live_apis: StartApis, live: LiveData
) -> None:
    (api,) = start_live_apis(TUNEWAVE_WS_SEND_QUEUE_FRAMES="8")
    owner = await live.person("owner")
    sleeper = await live.person("sleeper")
    room_id = await make_room(api, owner)
    await store(live, room_id, owner.user.id, 200)
    async with live_client(api, room_id, owner.token) as client:
        # A socket whose writer is stuck on a peer that never reads, and a resume underway.
        stalled = await asyncio.to_thread(stalled_socket, api, room_id, sleeper.token)
        try:
            pad = "p" * 16384
            for n in range(40):
                await publish(get_redis(), room_id, NoteFrame(n=n, pad=pad))
            await client.send({"type": "resume", "after_seq": 0})
            started = time.monotonic()
            api.process.send_signal(signal.SIGTERM)
            code, reason = await client.wait_closed(timeout_s=10)
            assert (code, reason) == (1001, "server shutting down")
            await asyncio.to_thread(api.process.wait, 10)
            assert time.monotonic() - started <= 10
        finally:
            stalled.close()
