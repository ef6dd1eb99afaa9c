"""Two API processes, a client on each, one room: events cross through Redis."""

from __future__ import annotations

import asyncio
import time
import uuid

from redis.asyncio import Redis
from sqlalchemy import select

from api.models import ListeningEvent, QueueEntry, QueueEntryStatus
from api.realtime.presence import sockets_prefix
from tests.conftest import TEST_REDIS_URL
from tests.realtime.conftest import StartApis
from tests.support.live import ApiProcess, LiveData, api_call, live_client, make_room

# Frames cross processes as they happen, not at the next resume or refresh (those are seconds
# apart). Latency itself is measured by bench/ws_fanout.py and bench/crowd.py, not here: a
# loaded CI machine can take a few hundred ms.
CROSSING_LIMIT_S = 3.0


async def test_chat_presence_and_playback_cross_processes_and_survive_a_killed_one(
    start_live_apis: StartApis, live: LiveData
) -> None:
    first, second = start_live_apis(2)
    owner = await live.person("owner")
    guest = await live.person("guest")
    room_id = await make_room(first, owner)
    spotify_id = await live.track(duration_ms=120_000)
    added = await api_call(
        first, "POST", f"/rooms/{room_id}/queue", owner, json={"spotify_id": spotify_id}
    )
    assert added.status_code == 201

    async with (
        live_client(first, room_id, owner.token) as on_first,
        live_client(second, room_id, guest.token) as on_second,
    ):
        # Presence: the guest's arrival on the second process reaches the first.
        _, joined = await on_first.wait_for(
            lambda f: f.get("type") == "joined" and f["user"]["id"] == str(guest.user.id)
        )
        assert joined["online"] == 2
        hello = on_second.of_type("hello")[0]
        assert {user["id"] for user in hello["online"]} == {
            str(owner.user.id),
            str(guest.user.id),
        }

        # Chat from the first process arrives on the second within the limit.
        sent = time.monotonic()
        await on_first.send({"text": "hello from one", "client_id": "c-1"})
        arrived, message = await on_second.wait_for(lambda f: f.get("type") == "message")
        assert arrived - sent < CROSSING_LIMIT_S, arrived - sent
        assert message["text"] == "hello from one"
        assert message["client_id"] == "c-1"
        assert message["user"]["id"] == str(owner.user.id)
        assert message["seq"] == 1

        # And back, the seed's bare {"text": ...} frame.
        sent = time.monotonic()
        await on_second.send({"text": "hi back"})
        arrived, message = await on_first.wait_for(
            lambda f: f.get("type") == "message" and f["seq"] == 2
        )
        assert arrived - sent < CROSSING_LIMIT_S
        assert message["text"] == "hi back"

        # A REST post reaches both processes' sockets too.
        posted = await api_call(second, "POST", f"/chat/{room_id}", owner, json={"text": "rest"})
        assert posted.status_code == 201
        await on_first.wait_type("message", seq=3, text="rest")
        await on_second.wait_type("message", seq=3, text="rest")

        # Playback: the owner's play on the first process reaches the second in time.
        sent = time.monotonic()
        await on_first.send({"type": "play"})
        arrived, playback = await on_second.wait_for(
            lambda f: f.get("type") == "playback" and f["reason"] == "play"
        )
        assert arrived - sent < CROSSING_LIMIT_S
        state = playback["state"]
        assert state["status"] == "playing"
        assert state["track"]["spotify_id"] == spotify_id
        assert state["entry_id"] == added.json()["association_id"]

        # Kill the first process: the second carries on and reports the owner gone.
        first.kill()
        left = await on_second.wait_type("left", timeout_s=8)
        assert left["user"]["id"] == str(owner.user.id)
        assert left["online"] == 1
        await on_second.send({"text": "still here"})
        await on_second.wait_type("message", text="still here")
        assert len(on_second.of_type("left")) == 1


async def _until_sockets(room_id: str, user_id: str, count: int, timeout_s: float = 5) -> None:
    """Until presence holds ``count`` sockets of the user in the room."""
    client = Redis.from_url(TEST_REDIS_URL)
    try:
        deadline = time.monotonic() + timeout_s
        while await client.zcard(sockets_prefix(room_id) + user_id) != count:
            assert time.monotonic() < deadline, f"presence never held {count} sockets"
            await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def test_a_user_is_left_only_when_their_last_socket_closes(
    api_pair: list[ApiProcess], live: LiveData
) -> None:
    first, second = api_pair
    owner = await live.person("owner")
    guest = await live.person("guest")
    room_id = await make_room(first, owner)
    async with live_client(first, room_id, owner.token) as watcher:
        async with live_client(first, room_id, guest.token):
            async with live_client(second, room_id, guest.token):
                await watcher.wait_for(
                    lambda f: f.get("type") == "joined" and f["user"]["id"] == str(guest.user.id)
                )
            # One of the guest's two sockets closed: once its process has taken it out of
            # presence, a wrong `left` would be published at once, before the guest's next
            # message (posted to the same process) is.
            await _until_sockets(room_id, str(guest.user.id), 1)
            response = await api_call(
                second, "POST", f"/chat/{room_id}", guest, json={"text": "still here"}
            )
            assert response.status_code == 201
            await watcher.wait_type("message", text="still here")
            assert watcher.of_type("left") == []
            guest_joins = [
                f for f in watcher.of_type("joined") if f["user"]["id"] != str(owner.user.id)
            ]
            assert len(guest_joins) == 1
        left = await watcher.wait_type("left")
        assert left["user"]["id"] == str(guest.user.id)
        assert left["online"] == 1


async def test_a_track_advances_once_with_one_listening_event_per_member(
    api_pair: list[ApiProcess], live: LiveData
) -> None:
    first, second = api_pair
    owner = await live.person("owner")
    guest = await live.person("guest")
    room_id = await make_room(first, owner)
    short = await live.track(duration_ms=2_500, title="short one")
    after = await live.track(duration_ms=60_000, title="next one")
    entries = []
    for spotify_id in (short, after):
        response = await api_call(
            first, "POST", f"/rooms/{room_id}/queue", owner, json={"spotify_id": spotify_id}
        )
        assert response.status_code == 201
        entries.append(response.json()["association_id"])

    async with (
        live_client(first, room_id, owner.token) as on_first,
        live_client(second, room_id, guest.token) as on_second,
    ):
        await on_first.wait_for(lambda f: f.get("type") == "joined" and f["online"] == 2)
        started = await api_call(
            second, "POST", f"/rooms/{room_id}/playback", owner, json={"action": "play"}
        )
        assert started.status_code == 200
        version = started.json()["version"]
        started_at_ms = started.json()["started_at_ms"]
        for client in (on_first, on_second):
            frame = await client.wait_type("playback", timeout_s=6, reason="advance")
            state = frame["state"]
            assert state["entry_id"] == entries[1]
            assert state["version"] == version + 1
            # The next entry starts at the instant the first one ended.
            assert state["started_at_ms"] == started_at_ms + 2_500
        # A second advance (the other process's timer) would come at the track's end, before
        # anything asked later: a pause, heard by both.
        paused = await api_call(
            first, "POST", f"/rooms/{room_id}/playback", owner, json={"action": "pause"}
        )
        assert paused.status_code == 200
        for client in (on_first, on_second):
            await client.wait_type("playback", reason="pause")
        for client in (on_first, on_second):
            advances = [f for f in client.of_type("playback") if f["reason"] == "advance"]
            assert len(advances) == 1

    async with live.session() as session:
        statuses = dict(
            (
                await session.execute(
                    select(QueueEntry.id, QueueEntry.status).where(
                        QueueEntry.room_id == uuid.UUID(room_id)
                    )
                )
            ).all()
        )
        events = list(
            await session.scalars(
                select(ListeningEvent).where(ListeningEvent.room_id == uuid.UUID(room_id))
            )
        )
    assert statuses == {
        uuid.UUID(entries[0]): QueueEntryStatus.played,
        uuid.UUID(entries[1]): QueueEntryStatus.playing,
    }
    assert sorted(event.user_id for event in events) == sorted([owner.user.id, guest.user.id])
    for event in events:
        # Both were there from the first to the last millisecond.
        assert event.ms_played == 2_500
        assert event.source == "room"


async def test_a_track_that_ended_while_no_process_ran_advances_once_after_a_restart(
    start_live_apis: StartApis, live: LiveData
) -> None:
    (api,) = start_live_apis()
    owner = await live.person("owner")
    room_id = await make_room(api, owner)
    for duration_ms in (1_500, 60_000):
        spotify_id = await live.track(duration_ms=duration_ms)
        response = await api_call(
            api, "POST", f"/rooms/{room_id}/queue", owner, json={"spotify_id": spotify_id}
        )
        assert response.status_code == 201
    started = (
        await api_call(api, "POST", f"/rooms/{room_id}/playback", owner, json={"action": "play"})
    ).json()
    api.stop()
    # The first track (1.5 s) ends while no process runs: wait for that instant.
    ends_at_s = (started["started_at_ms"] + 1_500) / 1000
    await asyncio.sleep(max(0.0, ends_at_s - time.time()) + 0.1)

    restarted = start_live_apis(2)
    states = await asyncio.gather(
        *(api_call(process, "GET", f"/rooms/{room_id}/playback") for process in restarted * 3)
    )
    versions = {response.json()["version"] for response in states}
    entries = {response.json()["entry_id"] for response in states}
    assert versions == {started["version"] + 1}
    assert len(entries) == 1
    assert entries != {started["entry_id"]}
