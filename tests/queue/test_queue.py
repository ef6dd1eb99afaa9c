"""The room queue over REST: who may add, see, remove and move entries; limits; play order."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import QueueEntry, QueueEntryStatus
from api.queue.service import MAX_UPCOMING_ENTRIES, POSITION_GAP, member_share_limit
from tests.factories import new_spotify_id
from tests.queue.conftest import Join, Tracks
from tests.support.people import CreateRoom, SignedIn, SignIn

PASSWORD = "open sesame"


async def add(
    client: httpx.AsyncClient, room: dict, who: SignedIn | None, spotify_id: str
) -> httpx.Response:
    return await client.post(
        f"/rooms/{room['id']}/queue",
        json={"spotify_id": spotify_id},
        headers=who.headers if who else {},
    )


async def queue_ids(client: httpx.AsyncClient, room: dict, who: SignedIn | None = None) -> list:
    response = await client.get(f"/rooms/{room['id']}/queue", headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    return [entry["association_id"] for entry in response.json()]


@pytest.fixture
async def owner(sign_in: SignIn) -> SignedIn:
    return await sign_in("owner")


@pytest.fixture
async def member(sign_in: SignIn) -> SignedIn:
    return await sign_in("member")


@pytest.fixture
async def stranger(sign_in: SignIn) -> SignedIn:
    return await sign_in("stranger")


async def test_owner_adds_a_track_and_gets_the_entry(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom, tracks: Tracks
) -> None:
    room = await create_room(owner, "Queue Room")
    (track,) = await tracks(1)

    response = await add(client, room, owner, track.spotify_id)

    assert response.status_code == 201, response.text
    entry = response.json()
    assert set(entry) == {
        "association_id",
        "room_id",
        "track",
        "added_by",
        "added_by_user",
        "position",
        "status",
        "added_at",
    }
    assert entry["room_id"] == room["id"]
    assert entry["added_by"] == str(owner.user.id)
    assert entry["added_by_user"] == {
        "id": str(owner.user.id),
        "display_name": owner.user.display_name,
        "avatar_url": owner.user.avatar_url,
        "is_demo": False,
    }
    assert entry["status"] == "queued"
    assert entry["position"] == POSITION_GAP
    assert entry["track"] == {
        "spotify_id": track.spotify_id,
        "title": track.title,
        "artists": ["Test Artist"],
        "album": "Test Album",
        "duration_ms": 200_000,
        "image_url": None,
        "genres": [],
    }
    datetime.fromisoformat(entry["added_at"])
    one = await client.get(f"/rooms/{room['id']}/queue/{entry['association_id']}")
    assert one.status_code == 200
    assert one.json() == entry
    listed = await client.get(f"/rooms/{room['id']}/queue")
    assert listed.json() == [entry]


async def test_entries_play_in_the_order_they_were_added_with_the_playing_one_first(
    client: httpx.AsyncClient,
    session: AsyncSession,
    owner: SignedIn,
    create_room: CreateRoom,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Order Room")
    ids = [
        (await add(client, room, owner, t.spotify_id)).json()["association_id"]
        for t in await tracks(3)
    ]
    assert await queue_ids(client, room) == ids

    await session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == uuid.UUID(ids[2]))
        .values(status=QueueEntryStatus.playing)
    )
    await session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == uuid.UUID(ids[0]))
        .values(status=QueueEntryStatus.played)
    )
    await session.commit()

    response = await client.get(f"/rooms/{room['id']}/queue")
    assert [(e["association_id"], e["status"]) for e in response.json()] == [
        (ids[2], "playing"),
        (ids[1], "queued"),
    ]
    # A played entry is no longer upcoming, but can still be read on its own.
    played = await client.get(f"/rooms/{room['id']}/queue/{ids[0]}")
    assert played.status_code == 200
    assert played.json()["status"] == "played"


async def test_who_may_add_under_the_owner_policy(
    client: httpx.AsyncClient,
    owner: SignedIn,
    member: SignedIn,
    stranger: SignedIn,
    create_room: CreateRoom,
    join: Join,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Owner Policy")
    await join(member, room)
    (track,) = await tracks(1)

    assert (await add(client, room, None, track.spotify_id)).status_code == 401
    assert (await add(client, room, stranger, track.spotify_id)).status_code == 403
    refused = await add(client, room, member, track.spotify_id)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "only the room's owner adds tracks to this queue",
        "code": "owner_only",
    }
    assert (await add(client, room, owner, track.spotify_id)).status_code == 201


@pytest.mark.parametrize("private", [False, True])
async def test_who_may_add_under_the_members_policy(
    client: httpx.AsyncClient,
    owner: SignedIn,
    member: SignedIn,
    stranger: SignedIn,
    create_room: CreateRoom,
    join: Join,
    tracks: Tracks,
    private: bool,
) -> None:
    fields = {"is_private": True, "password": PASSWORD} if private else {}
    room = await create_room(owner, "Members Policy", queue_policy="members", **fields)
    await join(member, room, PASSWORD if private else None)
    first, second = await tracks(2)

    assert (await add(client, room, None, first.spotify_id)).status_code == 401
    assert (await add(client, room, stranger, first.spotify_id)).status_code == 403
    assert (await add(client, room, member, first.spotify_id)).status_code == 201
    assert (await add(client, room, owner, second.spotify_id)).status_code == 201


@pytest.mark.parametrize("private", [False, True])
async def test_who_may_see_the_queue(
    client: httpx.AsyncClient,
    owner: SignedIn,
    member: SignedIn,
    stranger: SignedIn,
    create_room: CreateRoom,
    join: Join,
    tracks: Tracks,
    private: bool,
) -> None:
    fields = {"is_private": True, "password": PASSWORD} if private else {}
    room = await create_room(owner, "Seeing Room", **fields)
    await join(member, room, PASSWORD if private else None)
    (track,) = await tracks(1)
    entry_id = (await add(client, room, owner, track.spotify_id)).json()["association_id"]

    for who, expected in [
        (None, 401 if private else 200),
        (stranger, 403 if private else 200),
        (member, 200),
        (owner, 200),
    ]:
        headers = who.headers if who else {}
        listed = await client.get(f"/rooms/{room['id']}/queue", headers=headers)
        one = await client.get(f"/rooms/{room['id']}/queue/{entry_id}", headers=headers)
        assert (listed.status_code, one.status_code) == (expected, expected), who


async def test_unknown_and_malformed_ids(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom, tracks: Tracks
) -> None:
    room = await create_room(owner, "Ids Room")
    other = await create_room(owner, "Other Room")
    (track,) = await tracks(1)
    entry_id = (await add(client, other, owner, track.spotify_id)).json()["association_id"]
    unknown = uuid.uuid4()
    base = f"/rooms/{room['id']}/queue"

    assert (await client.get(f"/rooms/{unknown}/queue")).status_code == 404
    assert (await client.get(f"{base}/{unknown}")).status_code == 404
    # An entry of another room is not found in this one.
    assert (await client.get(f"{base}/{entry_id}")).status_code == 404
    assert (await client.delete(f"{base}/{entry_id}", headers=owner.headers)).status_code == 404
    moved = await client.post(f"{base}/{entry_id}/move", json={"index": 0}, headers=owner.headers)
    assert moved.status_code == 404
    assert (await add(client, {"id": unknown}, owner, track.spotify_id)).status_code == 404
    for path in ("/rooms/not-a-uuid/queue", f"{base}/not-a-uuid", f"{base}/123"):
        response = await client.get(path)
        assert response.status_code == 422, path
        assert "detail" in response.json()
    assert (await client.delete(f"{base}/nope", headers=owner.headers)).status_code == 422


@pytest.mark.parametrize(
    "body",
    [{}, {"spotify_id": "short"}, {"spotify_id": 42}, {"spotify_id": "a" * 22, "extra": 1}, []],
)
async def test_add_rejects_malformed_bodies(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom, body: object
) -> None:
    room = await create_room(owner, "Bodies Room")
    response = await client.post(f"/rooms/{room['id']}/queue", json=body, headers=owner.headers)
    assert response.status_code == 422
    assert "detail" in response.json()


async def test_an_unknown_track_is_404_without_spotify(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom
) -> None:
    room = await create_room(owner, "Unknown Track")
    response = await add(client, room, owner, new_spotify_id())
    assert response.status_code == 404
    assert response.json() == {"detail": "track not found", "code": "track_not_found"}


async def test_the_same_track_twice_in_the_upcoming_queue_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    owner: SignedIn,
    create_room: CreateRoom,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Duplicates")
    (track,) = await tracks(1)
    first = (await add(client, room, owner, track.spotify_id)).json()

    again = await add(client, room, owner, track.spotify_id)
    assert again.status_code == 409
    assert again.json() == {
        "detail": "this track is already in the queue",
        "code": "track_already_queued",
    }

    # Playing still counts as upcoming; once played, the track may be queued again.
    for status, expected in [(QueueEntryStatus.playing, 409), (QueueEntryStatus.played, 201)]:
        await session.execute(
            update(QueueEntry)
            .where(QueueEntry.id == uuid.UUID(first["association_id"]))
            .values(status=status)
        )
        await session.commit()
        assert (await add(client, room, owner, track.spotify_id)).status_code == expected


async def test_a_full_queue_refuses_more(
    client: httpx.AsyncClient,
    session: AsyncSession,
    owner: SignedIn,
    create_room: CreateRoom,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Full Room")
    catalog = await tracks(MAX_UPCOMING_ENTRIES + 1)
    session.add_all(
        QueueEntry(
            room_id=uuid.UUID(room["id"]),
            track_id=track.id,
            added_by=owner.user.id,
            position=(i + 1) * POSITION_GAP,
        )
        for i, track in enumerate(catalog[:MAX_UPCOMING_ENTRIES])
    )
    await session.commit()

    response = await add(client, room, owner, catalog[-1].spotify_id)

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"the queue is full ({MAX_UPCOMING_ENTRIES} tracks)",
        "code": "queue_full",
    }


def test_member_share_limit() -> None:
    assert member_share_limit(1) == 5
    assert member_share_limit(23) == 5
    assert member_share_limit(24) == 6
    assert member_share_limit(400) == 100


async def test_a_member_may_own_only_a_share_of_the_queue(
    client: httpx.AsyncClient,
    owner: SignedIn,
    member: SignedIn,
    create_room: CreateRoom,
    join: Join,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Share Room", queue_policy="members")
    await join(member, room)
    catalog = await tracks(26)
    for track in catalog[:5]:
        assert (await add(client, room, member, track.spotify_id)).status_code == 201

    refused = await add(client, room, member, catalog[5].spotify_id)
    assert refused.status_code == 409
    assert "members may have 5 or 25%" in refused.json()["detail"]

    # The owner has no share limit; a longer queue makes a member's share larger.
    for track in catalog[6:24]:
        assert (await add(client, room, owner, track.spotify_id)).status_code == 201
    assert (await add(client, room, member, catalog[5].spotify_id)).status_code == 201
    assert (await add(client, room, member, catalog[24].spotify_id)).status_code == 409


async def test_adding_and_removing_bump_the_rooms_activity(
    client: httpx.AsyncClient, owner: SignedIn, create_room: CreateRoom, tracks: Tracks
) -> None:
    room = await create_room(owner, "Active Room")
    (track,) = await tracks(1)

    async def activity() -> str:
        return str((await client.get(f"/rooms/{room['id']}")).json()["last_activity_at"])

    before = await activity()
    entry = (await add(client, room, owner, track.spotify_id)).json()
    after_add = await activity()
    assert after_add > before
    deleted = await client.delete(
        f"/rooms/{room['id']}/queue/{entry['association_id']}", headers=owner.headers
    )
    assert deleted.status_code == 200
    assert await activity() > after_add


async def test_who_may_remove_entries(
    client: httpx.AsyncClient,
    owner: SignedIn,
    member: SignedIn,
    stranger: SignedIn,
    sign_in: SignIn,
    create_room: CreateRoom,
    join: Join,
    tracks: Tracks,
) -> None:
    other_member = await sign_in("other")
    room = await create_room(owner, "Removal Room", queue_policy="members")
    await join(member, room)
    await join(other_member, room)
    t1, t2, t3 = await tracks(3)
    by_member = (await add(client, room, member, t1.spotify_id)).json()["association_id"]
    by_other = (await add(client, room, other_member, t2.spotify_id)).json()["association_id"]
    by_owner = (await add(client, room, owner, t3.spotify_id)).json()["association_id"]
    base = f"/rooms/{room['id']}/queue"

    assert (await client.delete(f"{base}/{by_member}")).status_code == 401
    assert (await client.delete(f"{base}/{by_member}", headers=stranger.headers)).status_code == 403
    refused = await client.delete(f"{base}/{by_other}", headers=member.headers)
    assert refused.status_code == 403
    mine = await client.delete(f"{base}/{by_member}", headers=member.headers)
    assert (mine.status_code, mine.json()) == (200, {"status": "removed"})
    assert (await client.delete(f"{base}/{by_other}", headers=owner.headers)).status_code == 200
    assert await queue_ids(client, room) == [by_owner]
    assert (await client.delete(f"{base}/{by_member}", headers=owner.headers)).status_code == 404


async def test_a_playing_entry_cannot_be_removed(
    client: httpx.AsyncClient,
    session: AsyncSession,
    owner: SignedIn,
    create_room: CreateRoom,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Playing Room")
    (track,) = await tracks(1)
    entry_id = (await add(client, room, owner, track.spotify_id)).json()["association_id"]
    await session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == uuid.UUID(entry_id))
        .values(status=QueueEntryStatus.playing)
    )
    await session.commit()

    response = await client.delete(f"/rooms/{room['id']}/queue/{entry_id}", headers=owner.headers)
    assert response.status_code == 409
    moved = await client.post(
        f"/rooms/{room['id']}/queue/{entry_id}/move", json={"index": 0}, headers=owner.headers
    )
    assert moved.status_code == 409


async def test_the_owner_moves_entries(
    client: httpx.AsyncClient,
    session: AsyncSession,
    owner: SignedIn,
    member: SignedIn,
    create_room: CreateRoom,
    join: Join,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Move Room")
    await join(member, room)
    a, b, c, d = [
        (await add(client, room, owner, t.spotify_id)).json()["association_id"]
        for t in await tracks(4)
    ]
    base = f"/rooms/{room['id']}/queue"

    async def move(entry_id: str, index: object, who: SignedIn | None = owner) -> httpx.Response:
        return await client.post(
            f"{base}/{entry_id}/move", json={"index": index}, headers=who.headers if who else {}
        )

    first = await move(d, 0)
    assert first.status_code == 200, first.text
    assert [e["association_id"] for e in first.json()] == [d, a, b, c]
    assert [e["association_id"] for e in (await move(d, 2)).json()] == [a, b, d, c]
    # Past the end means last.
    assert [e["association_id"] for e in (await move(a, 99)).json()] == [b, d, c, a]
    assert await queue_ids(client, room) == [b, d, c, a]

    assert (await move(a, 0, None)).status_code == 401
    assert (await move(a, 0, member)).status_code == 403
    for bad in (-1, "1", 1.5, None):
        assert (await move(a, bad)).status_code == 422


async def test_a_move_without_a_gap_renumbers_the_queue(
    client: httpx.AsyncClient,
    session: AsyncSession,
    owner: SignedIn,
    create_room: CreateRoom,
    tracks: Tracks,
) -> None:
    room = await create_room(owner, "Tight Room")
    ids = [
        (await add(client, room, owner, t.spotify_id)).json()["association_id"]
        for t in await tracks(3)
    ]
    for position, entry_id in enumerate(ids):
        await session.execute(
            update(QueueEntry).where(QueueEntry.id == uuid.UUID(entry_id)).values(position=position)
        )
    await session.commit()

    response = await client.post(
        f"/rooms/{room['id']}/queue/{ids[2]}/move", json={"index": 1}, headers=owner.headers
    )

    assert response.status_code == 200, response.text
    entries = response.json()
    assert [e["association_id"] for e in entries] == [ids[0], ids[2], ids[1]]
    assert [e["position"] for e in entries] == [POSITION_GAP, 2 * POSITION_GAP, 3 * POSITION_GAP]
    # Appends continue after the renumbered queue.
    (extra,) = await tracks(1)
    assert (await add(client, room, owner, extra.spotify_id)).json()["position"] == 4 * POSITION_GAP
