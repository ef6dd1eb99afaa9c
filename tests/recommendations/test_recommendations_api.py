"""GET /recommendations/{tracks,users,rooms}: published model answers from Redis, and the
genre and popularity fallbacks, against real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import (
    Genre,
    ListeningEvent,
    ListeningSource,
    QueueEntry,
    QueueEntryStatus,
    Room,
    RoomGenre,
    RoomMember,
    Track,
    User,
    UserGenre,
)
from api.realtime.events import now_ms
from api.realtime.presence import Presence
from api.recommendations import store
from api.recommendations.scoring import scoring_blob
from recommender import GenreSpace
from tests.factories import create_genre, create_track, create_user
from tests.support.people import SignIn
from tests.support.queries import recorded_statements


@pytest.fixture
async def genres(session: AsyncSession) -> dict[str, Genre]:
    return {name: await create_genre(session, name) for name in ("Shoegaze", "Techno", "Jazz")}


async def _catalog(session: AsyncSession, genres: dict[str, Genre]) -> dict[str, list[Track]]:
    tracks: dict[str, list[Track]] = {}
    for name, genre in genres.items():
        tracks[name] = []
        for n in range(4):
            track = await create_track(
                session, title=f"{name} {n}", artists=(f"{name} Band",), genres=[genre]
            )
            track.popularity = 90 - n
            tracks[name].append(track)
    await session.flush()
    return tracks


async def _like(session: AsyncSession, user: User, *genres: Genre) -> None:
    for genre in genres:
        session.add(UserGenre(user_id=user.id, genre_id=genre.id))
    await session.flush()


async def _play(session: AsyncSession, user: User, *tracks: Track) -> None:
    for n, track in enumerate(tracks):
        session.add(
            ListeningEvent(
                user_id=user.id,
                track_id=track.id,
                source=ListeningSource.room,
                played_at=datetime.now(UTC) - timedelta(minutes=n + 1),
                ms_played=60_000,
            )
        )
    await session.flush()


async def test_a_listener_with_a_favourite_genre_gets_its_tracks_minus_what_they_played(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, genres: dict[str, Genre]
) -> None:
    alice = await sign_in("alice")
    tracks = await _catalog(session, genres)
    await _like(session, alice.user, genres["Shoegaze"])
    await _play(session, alice.user, tracks["Shoegaze"][0])
    await session.commit()

    response = await client.get(
        "/recommendations/tracks", params={"limit": 3}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] is None
    assert [item["track"]["title"] for item in body["items"]] == [
        "Shoegaze 1",
        "Shoegaze 2",
        "Shoegaze 3",
    ]
    assert {item["reason"] for item in body["items"]} == {"popular in shoegaze, which you like"}
    assert {item["basis"] for item in body["items"]} == {"genres"}


async def test_genres_from_history_alone_are_enough(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, genres: dict[str, Genre]
) -> None:
    bob = await sign_in("bob")
    tracks = await _catalog(session, genres)
    await _play(session, bob.user, tracks["Techno"][0], tracks["Techno"][1])
    await session.commit()

    body = (await client.get("/recommendations/tracks", headers=bob.headers)).json()

    first = body["items"][0]
    assert first["track"]["title"] == "Techno 2"
    assert first["reason"] == "popular in techno, which you play a lot"
    # After the genre's tracks run out, popular tracks fill the answer.
    assert body["items"][-1]["basis"] == "popular"
    assert len(body["items"]) == 10


async def test_a_brand_new_listener_gets_popular_tracks_and_people(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, genres: dict[str, Genre]
) -> None:
    await _catalog(session, genres)
    regular = await create_user(session, display_name="regular")
    await session.commit()
    newbie = await sign_in("newbie")

    tracks = (await client.get("/recommendations/tracks", headers=newbie.headers)).json()
    people = (await client.get("/recommendations/users", headers=newbie.headers)).json()

    assert len(tracks["items"]) == 10
    assert tracks["items"][0]["reason"] == "popular on TuneWave right now"
    assert tracks["items"][0]["track"]["title"] in {"Shoegaze 0", "Techno 0", "Jazz 0"}
    assert [p["user"]["id"] for p in people["items"]] == [str(regular.id)]
    assert people["items"][0]["basis"] == "popular"


async def test_people_sharing_genres_come_first_with_the_shared_genres_named(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, genres: dict[str, Genre]
) -> None:
    alice = await sign_in("alice")
    await _like(session, alice.user, genres["Shoegaze"], genres["Jazz"])
    both = await create_user(session, display_name="both")
    await _like(session, both, genres["Shoegaze"], genres["Jazz"])
    one = await create_user(session, display_name="one")
    await _like(session, one, genres["Jazz"], genres["Techno"])
    other = await create_user(session, display_name="other")
    await _like(session, other, genres["Techno"])
    await session.commit()

    body = (await client.get("/recommendations/users", headers=alice.headers)).json()

    names = [item["user"]["display_name"] for item in body["items"]]
    assert names[:2] == ["both", "one"]
    assert "alice" not in names
    assert body["items"][0]["reason"] == "shares jazz and shoegaze with you"
    assert body["items"][0]["shared_genres"] == ["jazz", "shoegaze"]
    assert body["items"][1]["reason"] == "shares jazz with you"
    assert body["items"][0]["score"] > body["items"][1]["score"]
    assert "email" not in body["items"][0]["user"]


async def test_a_published_model_is_served_from_redis_and_switched_atomically(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    sign_in: SignIn,
    genres: dict[str, Genre],
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    await _like(session, bob.user, genres["Jazz"])
    tracks = await _catalog(session, genres)
    await session.commit()
    track = {
        "spotify_id": tracks["Techno"][3].spotify_id,
        "title": "Techno 3",
        "artists": ["X"],
        "album": None,
        "duration_ms": 1,
        "image_url": None,
        "genres": ["techno"],
    }
    await store.publish(
        redis,
        "v1",
        {
            "tracks": {str(alice.user.id): [{"track": track, "score": 0.9, "reason": "old"}]},
            "users": {},
        },
        {"model": "als"},
    )
    await store.publish(
        redis,
        "v2",
        {
            "tracks": {
                str(alice.user.id): [
                    {"track": track, "score": 0.8, "reason": "fans of Techno Band play it"}
                ]
            },
            "users": {
                str(alice.user.id): [
                    {
                        "user_id": str(bob.user.id),
                        "score": 0.7,
                        "reason": "you both play techno",
                        "reason_parts": [
                            {"code": "you_both_play", "params": {"genres": ["techno"]}}
                        ],
                        "shared_genres": ["techno"],
                    },
                    {"user_id": str(uuid.uuid4()), "score": 0.6, "reason": "deleted since"},
                ]
            },
        },
        {"model": "als"},
    )

    tracks_body = (await client.get("/recommendations/tracks", headers=alice.headers)).json()
    people_body = (await client.get("/recommendations/users", headers=alice.headers)).json()

    assert tracks_body["model_version"] == "v2"
    # Published before reasons had parts: no parts, the client shows the reason.
    assert tracks_body["items"] == [
        {
            "track": track,
            "score": 0.8,
            "reason": "fans of Techno Band play it",
            "reason_parts": [],
            "basis": "model",
        }
    ]
    assert [
        (p["user"]["display_name"], p["reason"], p["reason_parts"]) for p in people_body["items"]
    ] == [
        (
            "bob",
            "you both play techno",
            [{"code": "you_both_play", "params": {"genres": ["techno"]}}],
        )
    ]
    # The replaced version lingers briefly for readers that already fetched its name.
    assert 0 < await redis.ttl(store.version_key("v1", "tracks")) <= store.OLD_VERSION_GRACE_S
    # Bob is not in the published model: he gets the fallback, not an empty answer.
    bob_body = (await client.get("/recommendations/tracks", headers=bob.headers)).json()
    assert bob_body["model_version"] is None
    assert bob_body["items"][0]["reason"] == "popular in jazz, which you like"
    assert bob_body["items"][0]["reason_parts"] == [
        {"code": "popular_in_genres_you_like", "params": {"genres": ["jazz"]}}
    ]


async def _room(
    session: AsyncSession,
    name: str,
    owner: User,
    *,
    genres: list[Genre] = (),  # type: ignore[assignment]
    members: list[User] = (),  # type: ignore[assignment]
    queue: list[Track] = (),  # type: ignore[assignment]
    is_private: bool = False,
) -> Room:
    room = Room(
        name=name,
        owner_id=owner.id,
        is_private=is_private,
        password_hash="x" if is_private else None,
    )
    session.add(room)
    await session.flush()
    for genre in genres:
        session.add(RoomGenre(room_id=room.id, genre_id=genre.id))
    for member in (owner, *members):
        session.add(RoomMember(room_id=room.id, user_id=member.id))
    for position, track in enumerate(queue):
        session.add(
            QueueEntry(
                room_id=room.id,
                track_id=track.id,
                added_by=owner.id,
                position=(position + 1) * 1024,
                status=QueueEntryStatus.playing if position == 0 else QueueEntryStatus.queued,
            )
        )
    await session.flush()
    return room


async def test_rooms_matching_the_listeners_genres_rank_first_with_a_reason(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    sign_in: SignIn,
    genres: dict[str, Genre],
) -> None:
    alice = await sign_in("alice")
    await _like(session, alice.user, genres["Shoegaze"])
    tracks = await _catalog(session, genres)
    dj = await create_user(session, display_name="dj")
    crowd = [await create_user(session) for _ in range(5)]
    await _room(
        session,
        "Techno Bunker",
        dj,
        genres=[genres["Techno"]],
        members=crowd,
        queue=tracks["Techno"][:2],
    )
    # No room genres: its queue makes it a shoegaze room.
    wall = await _room(
        session, "Wall of Sound", dj, members=crowd[:1], queue=tracks["Shoegaze"][:3]
    )
    await _room(session, "Secret Shoegaze", dj, genres=[genres["Shoegaze"]], is_private=True)
    await session.commit()
    # One person connected to Wall of Sound right now (two sockets); Techno Bunker's six
    # members are all away.
    presence = Presence(redis, 15)
    for socket in ("p1:1", "p2:1"):
        await presence.join(str(wall.id), str(crowd[0].id), socket, {}, now_ms())

    body = (await client.get("/recommendations/rooms", headers=alice.headers)).json()

    names = [item["room"]["name"] for item in body["items"]]
    assert names == ["Wall of Sound", "Techno Bunker"]
    first = body["items"][0]
    assert (
        first["reason"]
        == "plays shoegaze, like you · now playing Shoegaze 0 by Shoegaze Band · 1 here now"
    )
    assert first["reason_parts"] == [
        {"code": "plays_like_you", "params": {"genres": ["shoegaze"], "artists": []}},
        {
            "code": "now_playing",
            "params": {"title": "Shoegaze 0", "artists": ["Shoegaze Band"]},
        },
        {"code": "here_now", "params": {"count": 1}},
    ]
    assert (first["room"]["member_count"], first["room"]["online_count"]) == (2, 1)
    assert first["room"]["now_playing"]["title"] == "Shoegaze 0"
    assert first["basis"] == "genres"
    # Members who are not there are never presented as listeners.
    techno = body["items"][1]
    assert techno["reason"] == "now playing Techno 0 by Techno Band"
    assert (techno["room"]["member_count"], techno["room"]["online_count"]) == (6, 0)


async def test_room_scoring_uses_the_models_vectors_when_published(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    sign_in: SignIn,
    genres: dict[str, Genre],
) -> None:
    alice, newbie = await sign_in("alice"), await sign_in("newbie")
    await _like(session, newbie.user, genres["Jazz"])
    tracks = await _catalog(session, genres)
    dj = await create_user(session, display_name="dj")
    await _room(session, "Jazz Cellar", dj, queue=tracks["Jazz"][:2])
    await _room(session, "Techno Bunker", dj, queue=tracks["Techno"][:2])
    await session.commit()
    catalogue = [t for name in ("Jazz", "Techno") for t in tracks[name]]
    item_ids = np.array([str(t.id) for t in catalogue], dtype=object)
    tags = pd.DataFrame({"item_id": item_ids, "tag": ["jazz"] * 4 + ["techno"] * 4})
    # Alice's vector points at the techno tracks' direction, away from jazz.
    item_vectors = np.array([[0.0, 1.0]] * 4 + [[1.0, 0.1]] * 4, dtype=np.float32)
    blob = scoring_blob(
        item_ids,
        np.array([str(alice.user.id)], dtype=object),
        item_vectors,
        np.array([[1.0, 0.0]], dtype=np.float32),
        GenreSpace().fit(item_ids, tags),
        ["Jazz Band"] * 4 + ["Techno Band"] * 4,
    )
    await store.publish(redis, "v7", {"tracks": {}}, {"model": "als"}, blobs={"scoring": blob})

    body = (await client.get("/recommendations/rooms", headers=alice.headers)).json()
    newbie_body = (await client.get("/recommendations/rooms", headers=newbie.headers)).json()

    assert body["model_version"] == "v7"
    assert [item["room"]["name"] for item in body["items"]] == ["Techno Bunker", "Jazz Cellar"]
    assert body["items"][0]["basis"] == "model"
    assert body["items"][0]["reason"].startswith("plays techno")
    assert body["items"][0]["reason_parts"][0]["code"] in {"plays_like_you", "plays_genres"}
    assert "listening" not in body["items"][0]["reason"]
    # Someone the model has not seen is scored by their genres in the same genre space.
    assert [item["room"]["name"] for item in newbie_body["items"]] == [
        "Jazz Cellar",
        "Techno Bunker",
    ]
    assert newbie_body["items"][0]["reason"].startswith("plays jazz, like you")


async def test_recommendation_lists_are_a_constant_number_of_statements(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    sign_in: SignIn,
    genres: dict[str, Genre],
) -> None:
    alice = await sign_in("alice")
    await _like(session, alice.user, genres["Jazz"])
    tracks = await _catalog(session, genres)
    dj = await create_user(session, display_name="dj")
    for n in range(30):
        member = await create_user(session)
        await _like(session, member, genres["Jazz"])
        await _room(
            session,
            f"Room {n}",
            dj,
            genres=[genres["Jazz"]],
            members=[member],
            queue=tracks["Jazz"][: 1 + n % 4],
        )
    await session.commit()

    counts: dict[str, list[int]] = {}
    for path in ("/recommendations/rooms", "/recommendations/tracks", "/recommendations/users"):
        for limit in (2, 20):
            await redis.flushdb()  # the uncached path, every time
            with recorded_statements() as statements:
                response = await client.get(path, params={"limit": limit}, headers=alice.headers)
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) == (
                limit if path != "/recommendations/tracks" else min(limit, 12)
            )
            counts.setdefault(path, []).append(len(statements))

    assert all(small == large for small, large in counts.values()), counts


async def test_anonymous_is_401_and_a_bad_limit_is_422(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    for path in ("/recommendations/rooms", "/recommendations/tracks", "/recommendations/users"):
        assert (await client.get(path)).status_code == 401
        for limit in (0, 51, "many"):
            response = await client.get(path, params={"limit": limit}, headers=alice.headers)
            assert response.status_code == 422
            assert "detail" in response.json()
