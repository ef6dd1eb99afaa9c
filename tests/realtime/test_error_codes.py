"""Refused frames carry the same specific codes as REST errors (docs/realtime.md)."""

from __future__ import annotations

from tests.support.live import ApiProcess, LiveData, api_call, live_client, make_room


async def test_refused_playback_frames_say_why(shared_api: ApiProcess, live: LiveData) -> None:
    owner, guest = await live.person("owner"), await live.person("guest")
    room_id = await make_room(shared_api, owner)
    joined = await api_call(shared_api, "POST", f"/rooms/{room_id}/join", guest)
    assert joined.status_code == 200, joined.text
    async with live_client(shared_api, room_id, owner.token) as client:
        await client.send({"type": "play"})
        empty = await client.wait_type("error")
        assert empty["code"] == "queue_empty"
    async with live_client(shared_api, room_id, guest.token) as client:
        await client.send({"type": "pause"})
        refused = await client.wait_type("error")
        assert refused["code"] == "owner_only"
