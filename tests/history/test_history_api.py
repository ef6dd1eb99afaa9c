"""GET /users/me/history and /users/me/summary against real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Genre, ListeningEvent, ListeningSource, Room, Track
from tests.factories import create_genre, create_track
from tests.support.people import SignIn
from tests.support.queries import recorded_statements

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def _listen(
    session: AsyncSession,
    user_id: object,
    tracks: list[Track],
    *,
    room: Room | None = None,
    source: ListeningSource = ListeningSource.spotify,
    start: datetime = T0,
) -> None:
    for n, track in enumerate(tracks):
        session.add(
            ListeningEvent(
                user_id=user_id,
                track_id=track.id,
                source=source,
                room_id=room.id if room else None,
                played_at=start + timedelta(minutes=n),
                ms_played=120_000,
            )
        )
    await session.flush()
    await session.commit()


async def _tracks(session: AsyncSession, n: int, genres: list[Genre]) -> list[Track]:
    return [
        await create_track(
            session,
            artists=(f"Artist {i % 3}", "Guest") if i % 2 else (f"Artist {i % 3}",),
            genres=genres[: 1 + i % len(genres)],
        )
        for i in range(n)
    ]


async def test_history_is_newest_first_with_track_room_source_and_time(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    shoegaze = await create_genre(session, "Shoegaze")
    tracks = await _tracks(session, 3, [shoegaze])
    room = Room(name="Dream Pop Den", owner_id=alice.user.id)
    session.add(room)
    await session.flush()
    await _listen(session, alice.user.id, tracks[:2])
    await _listen(
        session,
        alice.user.id,
        tracks[2:],
        room=room,
        source=ListeningSource.room,
        start=T0 + timedelta(hours=1),
    )

    response = await client.get("/users/me/history", headers=alice.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_before"] is None
    items = body["items"]
    assert [item["track"]["spotify_id"] for item in items] == [
        tracks[2].spotify_id,
        tracks[1].spotify_id,
        tracks[0].spotify_id,
    ]
    assert items[0]["source"] == "room"
    assert items[0]["room"] == {"id": str(room.id), "name": "Dream Pop Den"}
    assert items[0]["played_at"] == (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert items[1]["source"] == "spotify"
    assert items[1]["room"] is None
    assert items[1]["track"]["artists"] == ["Artist 1", "Guest"]
    assert items[1]["track"]["genres"] == ["shoegaze"]
    assert items[1]["ms_played"] == 120_000


async def test_pages_cover_everything_once_even_for_plays_at_the_same_instant(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    jazz = await create_genre(session, "Jazz")
    tracks = await _tracks(session, 7, [jazz])
    # Three plays share one instant: the cursor must still split them across pages exactly.
    for track in tracks[:3]:
        session.add(
            ListeningEvent(
                user_id=alice.user.id,
                track_id=track.id,
                source=ListeningSource.room,
                played_at=T0,
                ms_played=1,
            )
        )
    await _listen(session, alice.user.id, tracks[3:], start=T0 + timedelta(minutes=1))

    seen: list[int] = []
    before = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if before:
            params["before"] = before
        page = (await client.get("/users/me/history", params=params, headers=alice.headers)).json()
        seen.extend(item["id"] for item in page["items"])
        before = page["next_before"]
        if before is None:
            break

    assert len(seen) == 7
    assert len(set(seen)) == 7


async def test_only_the_callers_history_is_shown(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    tracks = await _tracks(session, 2, [await create_genre(session, "Techno")])
    await _listen(session, alice.user.id, tracks)

    body = (await client.get("/users/me/history", headers=bob.headers)).json()

    assert body == {"items": [], "next_before": None}


async def test_bad_paging_is_a_422_and_anonymous_a_401(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    for params in ({"limit": 0}, {"limit": 101}, {"before": "yesterday"}, {"before": "1_x"}):
        response = await client.get("/users/me/history", params=params, headers=alice.headers)
        assert response.status_code == 422, (params, response.text)
        assert "detail" in response.json()
    assert (await client.get("/users/me/history")).status_code == 401
    assert (await client.get("/users/me/summary")).status_code == 401


async def test_history_is_a_constant_number_of_statements(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    genres = [await create_genre(session, name) for name in ("Ambient", "Dub", "House")]
    tracks = await _tracks(session, 40, genres)
    await _listen(session, alice.user.id, tracks)

    counts = []
    for limit in (4, 40):
        with recorded_statements() as statements:
            response = await client.get(
                "/users/me/history", params={"limit": limit}, headers=alice.headers
            )
        assert len(response.json()["items"]) == limit
        counts.append(len(statements))

    assert counts[0] == counts[1]


async def test_summary_counts_top_genres_and_artists(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    ambient, dub = await create_genre(session, "Ambient"), await create_genre(session, "Dub")
    eno = await create_track(session, artists=("Brian Eno",), genres=[ambient])
    eno2 = await create_track(session, artists=("Brian Eno", "Jon Hassell"), genres=[ambient])
    king = await create_track(session, artists=("King Tubby",), genres=[dub, ambient])
    await _listen(session, alice.user.id, [eno, eno2, eno, king])

    response = await client.get("/users/me/summary", headers=alice.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plays"] == 4
    assert body["ms_played"] == 4 * 120_000
    assert body["top_genres"] == [
        {"slug": "ambient", "name": "Ambient", "plays": 4},
        {"slug": "dub", "name": "Dub", "plays": 1},
    ]
    assert [(a["name"], a["plays"]) for a in body["top_artists"]] == [
        ("Brian Eno", 3),
        ("Jon Hassell", 1),
        ("King Tubby", 1),
    ]


async def test_summary_of_a_new_listener_is_empty_not_an_error(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")

    body = (await client.get("/users/me/summary", headers=alice.headers)).json()

    assert body["plays"] == 0
    assert body["top_genres"] == []
    assert body["first_played_at"] is None
