"""GET /genres/{slug} and GET /users/me/genres/explore against real PostgreSQL and Redis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.cache import near_cache
from api.core.redis import OfflineRedis
from api.discovery import graph as graph_store
from api.discovery.service import discovery_service
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
from tests.factories import create_genre, create_track, create_user
from tests.support.people import SignIn

GENRES = ("Shoegaze", "Dream Pop", "Techno", "House")


@dataclass
class Scene:
    genres: dict[str, Genre]
    tracks: dict[str, list[Track]]
    shoegazers: list[User]
    ravers: list[User]


async def _play(session: AsyncSession, user: User, track: Track, times: int = 1) -> None:
    for n in range(times):
        session.add(
            ListeningEvent(
                user_id=user.id,
                track_id=track.id,
                source=ListeningSource.room,
                played_at=datetime.now(UTC) - timedelta(minutes=n + 1),
                ms_played=60_000,
            )
        )


async def _room(
    session: AsyncSession,
    name: str,
    owner: User,
    *,
    genres: list[Genre] = (),  # type: ignore[assignment]
    playing: Track | None = None,
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
    session.add(RoomMember(room_id=room.id, user_id=owner.id))
    for genre in genres:
        session.add(RoomGenre(room_id=room.id, genre_id=genre.id))
    if playing is not None:
        session.add(
            QueueEntry(
                room_id=room.id,
                track_id=playing.id,
                added_by=owner.id,
                position=1024,
                status=QueueEntryStatus.playing,
            )
        )
    await session.flush()
    return room


@pytest.fixture
async def scene(session: AsyncSession) -> Scene:
    """Six listeners play shoegaze with dream pop, eight techno with house."""
    genres = {name: await create_genre(session, name) for name in GENRES}
    tracks: dict[str, list[Track]] = {}
    for name, genre in genres.items():
        tracks[name] = []
        for n in range(4):
            track = await create_track(
                session, title=f"{name} {n}", artists=(f"{name} Band",), genres=[genre]
            )
            track.popularity = 50 + n  # the catalog prefers the last ones
            tracks[name].append(track)
    shoegazers = [await create_user(session, display_name=f"gazer {n}") for n in range(6)]
    for n, user in enumerate(shoegazers):
        await _play(session, user, tracks["Shoegaze"][0], times=1 + n)
        await _play(session, user, tracks["Dream Pop"][0])
    ravers = [await create_user(session, display_name=f"raver {n}") for n in range(8)]
    for user in ravers:
        await _play(session, user, tracks["Techno"][0])
        await _play(session, user, tracks["House"][0])
    await session.flush()
    return Scene(genres, tracks, shoegazers, ravers)


async def test_an_unknown_genre_is_a_404_with_its_code(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    for slug in ("no such genre", "%20"):
        response = await client.get(f"/genres/{slug}", headers=alice.headers)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "genre_not_found"


async def test_a_genre_page_has_its_rooms_top_tracks_people_and_neighbours(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, sign_in: SignIn, scene: Scene
) -> None:
    alice = await sign_in("alice")
    dj = await create_user(session, display_name="dj")
    playing = await _room(session, "Wall of Sound", dj, playing=scene.tracks["Shoegaze"][2])
    await _room(session, "Gaze Club", dj, genres=[scene.genres["Shoegaze"]])
    await _room(session, "Bunker", dj, genres=[scene.genres["Techno"]])
    await _room(session, "Secret", dj, genres=[scene.genres["Shoegaze"]], is_private=True)
    fan = await create_user(session, display_name="fan")
    session.add(UserGenre(user_id=fan.id, genre_id=scene.genres["Shoegaze"].id))
    await session.commit()
    await Presence(redis, 15).join(str(playing.id), str(dj.id), "p1:1", {}, now_ms())

    response = await client.get("/genres/Shoegaze", headers=alice.headers)

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["genre"] == {"slug": "shoegaze", "name": "Shoegaze"}
    assert page["track_count"] == 4
    rooms = [(r["room"]["name"], r["playing_now"], r["tagged"]) for r in page["rooms"]]
    assert rooms == [("Wall of Sound", True, False), ("Gaze Club", False, True)]
    assert page["rooms"][0]["room"]["now_playing"]["title"] == "Shoegaze 2"
    assert page["rooms"][0]["room"]["online_count"] == 1
    # Played on TuneWave first (21 plays of track 0), then the catalog's popularity.
    titles = [t["track"]["title"] for t in page["top_tracks"]]
    assert titles == ["Shoegaze 0", "Shoegaze 3", "Shoegaze 2", "Shoegaze 1"]
    assert page["top_tracks"][0]["recent_plays"] == 21
    people = page["people"]
    # gazer 5 plays shoegaze 6 times out of 7: the genre weighs most in their listening.
    assert people[0]["user"]["display_name"] == "gazer 5"
    assert people[0]["reason"] == "86% of what they play is shoegaze"
    assert people[0]["reason_parts"] == [
        {"code": "share_of_plays", "params": {"genre": "shoegaze", "percent": 86}}
    ]
    by_name = {p["user"]["display_name"]: p for p in people}
    assert by_name["fan"]["reason"] == "shoegaze is one of their favourite genres"
    assert by_name["fan"]["favourite"] is True
    assert not any(name.startswith("raver") for name in by_name)
    assert [g["slug"] for g in page["related"]] == ["dream pop"]


async def test_a_genre_page_is_cached_for_everybody_but_only_for_signed_in_listeners(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, sign_in: SignIn, scene: Scene
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    first = await client.get("/genres/techno", headers=alice.headers)
    assert first.status_code == 200
    assert first.json()["top_tracks"][0]["track"]["title"] == "Techno 0"

    # New plays make another track the top one; the cached page still answers, to anybody...
    await _play(session, scene.ravers[0], scene.tracks["Techno"][1], times=20)
    await session.commit()
    assert (await client.get("/genres/techno", headers=bob.headers)).content == first.content
    assert 0 < await redis.ttl("tunewave:cache:genre:techno") <= 60
    # ...signed in: its people come from listening history.
    anonymous = await client.get("/genres/techno")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    # When it expires (here: dropped), the page is computed again.
    await redis.delete("tunewave:cache:genre:techno")
    near_cache.clear()
    again = (await client.get("/genres/techno", headers=alice.headers)).json()
    assert again["top_tracks"][0]["track"]["title"] == "Techno 1"


@pytest.mark.parametrize("k", ["0", "21", "-1", "five"])
async def test_explore_refuses_k_out_of_range(
    client: httpx.AsyncClient, sign_in: SignIn, k: str
) -> None:
    alice = await sign_in("alice")
    response = await client.get(f"/users/me/genres/explore?k={k}", headers=alice.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
    assert response.json()["field"] == "k"


async def test_explore_needs_a_signed_in_listener(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/me/genres/explore")
    assert response.status_code == 401


async def test_a_shoegazer_is_sent_to_dream_pop_with_a_room_playing_it_and_tracks_to_try(
    client: httpx.AsyncClient,
    session: AsyncSession,
    redis: Redis,
    sign_in: SignIn,
    scene: Scene,
) -> None:
    alice = await sign_in("alice")
    await _play(session, alice.user, scene.tracks["Shoegaze"][1], times=3)
    dj = await create_user(session, display_name="dj")
    await _room(session, "Haze", dj, playing=scene.tracks["Dream Pop"][1])
    await _room(session, "Hidden Haze", dj, playing=scene.tracks["Dream Pop"][2], is_private=True)
    await session.commit()

    response = await client.get("/users/me/genres/explore?k=3", headers=alice.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["graph"] == "on_demand"  # nothing published yet: built from PostgreSQL
    first = body["items"][0]
    assert first["genre"] == {"slug": "dream pop", "name": "Dream Pop"}
    assert first["basis"] == "adjacent"
    assert first["reason"] == "listeners of shoegaze also play dream pop"
    assert first["reason_parts"] == [
        {"code": "listeners_also_play", "params": {"genre": "shoegaze", "also": "dream pop"}}
    ]
    assert first["room"]["name"] == "Haze"
    assert first["room"]["now_playing"]["title"] == "Dream Pop 1"
    # The genre's top tracks: Dream Pop 0 (played by six), then by catalog popularity.
    assert [t["title"] for t in first["tracks"]] == ["Dream Pop 0", "Dream Pop 3", "Dream Pop 2"]
    slugs = [item["genre"]["slug"] for item in body["items"]]
    assert "shoegaze" not in slugs  # never a genre they already play
    assert len(slugs) == 3
    # Techno and house are not next to shoegaze: offered as popular, without a room.
    rest = body["items"][1:]
    assert {item["basis"] for item in rest} == {"popular"}
    assert rest[0]["reason"] == "played by 8 listeners on TuneWave"
    assert rest[0]["room"] is None

    # The graph built on demand was published: the next answer reads it.
    again = (await client.get("/users/me/genres/explore?k=3", headers=alice.headers)).json()
    assert again["graph"] == "published"
    assert again["items"] == body["items"]


async def test_a_cold_listener_gets_popular_genres_and_is_told_why(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, scene: Scene
) -> None:
    newcomer = await sign_in("newcomer")

    body = (await client.get("/users/me/genres/explore", headers=newcomer.headers)).json()

    items = body["items"]
    assert [item["genre"]["slug"] for item in items[:2]] == ["house", "techno"]  # 8 listeners
    assert len(items) == 4  # every genre anybody plays; k=5 asks for more than there are
    assert all(item["basis"] == "popular" for item in items)
    assert items[0]["reason_parts"] == [
        {"code": "popular_genre_to_start", "params": {"listeners": 8}}
    ]
    assert "until you have plays" in items[0]["reason"]
    assert [t["title"] for t in items[0]["tracks"]] == ["House 0", "House 3", "House 2"]


async def test_a_listener_with_only_favourites_is_placed_by_them(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn, scene: Scene
) -> None:
    bob = await sign_in("bob")
    session.add(UserGenre(user_id=bob.user.id, genre_id=scene.genres["Techno"].id))
    await session.commit()

    items = (await client.get("/users/me/genres/explore?k=1", headers=bob.headers)).json()["items"]

    assert [(i["genre"]["slug"], i["reason"]) for i in items] == [
        ("house", "listeners of techno also play house")
    ]


async def test_the_published_graph_is_served_and_matches_the_one_built_from_postgres(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, sign_in: SignIn, scene: Scene
) -> None:
    alice = await sign_in("alice")
    await session.commit()
    build = await discovery_service.build_and_publish_graph(session, redis)
    assert build.status == "published"
    assert build.genres == 4
    loaded = await graph_store.load(redis)
    assert loaded is not None
    assert loaded.id == build.graph_id
    built, _ = await discovery_service.build_graph(session)
    assert built is not None
    assert loaded.graph.vocabulary == built.vocabulary
    assert loaded.graph.neighbours("techno", 1) == built.neighbours("techno", 1)
    page = (await client.get("/genres/house", headers=alice.headers)).json()
    assert [g["slug"] for g in page["related"]] == ["techno"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/genres/%00", 404), ("/genres/a%00b", 404), (f"/genres/{'x' * 65}", 422)],
)
async def test_odd_slugs_are_a_clear_4xx(
    client: httpx.AsyncClient, sign_in: SignIn, path: str, status: int
) -> None:
    alice = await sign_in("alice")
    response = await client.get(path, headers=alice.headers)
    assert response.status_code == status, response.text


async def test_both_answer_from_postgresql_when_redis_is_down(
    session: AsyncSession, scene: Scene
) -> None:
    offline = cast(Redis, OfflineRedis())
    dj = await create_user(session, display_name="dj")
    await _room(session, "Haze", dj, playing=scene.tracks["Dream Pop"][1])
    gazer = scene.shoegazers[0]

    page = await discovery_service.genre_page(session, offline, "dream pop")
    assert [r.room.name for r in page.rooms] == ["Haze"]
    assert [g.slug for g in page.related] == ["shoegaze"]
    answer = await discovery_service.explore(session, offline, gazer.id, 2)
    assert answer.graph == "on_demand"
    assert [item.genre.slug for item in answer.items][:1] in (["techno"], ["house"])


async def test_a_track_of_two_suggested_genres_is_offered_once(
    client: httpx.AsyncClient, session: AsyncSession, sign_in: SignIn
) -> None:
    jazz, bebop, swing = [await create_genre(session, name) for name in ("Jazz", "Bebop", "Swing")]
    both = await create_track(session, title="Both", genres=[bebop, swing])
    both.popularity = 99
    only = {
        genre.slug: [
            await create_track(session, title=f"{genre.name} {n}", genres=[genre]) for n in range(3)
        ]
        for genre in (bebop, swing)
    }
    standard = await create_track(session, title="Standard", genres=[jazz])
    for n in range(4):
        fan = await create_user(session, display_name=f"cat {n}")
        await _play(session, fan, standard)
        await _play(session, fan, both)
        await _play(session, fan, only["bebop"][n % 3])
        await _play(session, fan, only["swing"][n % 3])
    alice = await sign_in("alice")
    await _play(session, alice.user, standard)
    await session.commit()

    items = (await client.get("/users/me/genres/explore?k=2", headers=alice.headers)).json()[
        "items"
    ]

    assert {item["genre"]["slug"] for item in items} == {"bebop", "swing"}
    offered = [track["title"] for item in items for track in item["tracks"]]
    assert offered.count("Both") == 1
    assert offered[0] == "Both"  # the most played (and popular) comes first
    assert all(len(item["tracks"]) == 3 for item in items)


async def _publish_people(redis: Redis, people: dict[User, list[tuple[User, float]]]) -> None:
    """A published model whose people recommendations are ``people`` (closest first)."""
    entries = {
        str(user.id): [
            {
                "user_id": str(other.id),
                "score": score,
                "reason": "similar listening overall",
                "reason_parts": [{"code": "similar_listening", "params": {}}],
                "shared_genres": [],
            }
            for other, score in theirs
        ]
        for user, theirs in people.items()
    }
    await store.publish(redis, "v1", {"users": entries, "tracks": {}}, {"model": "hybrid"})


async def test_the_genres_of_published_taste_neighbours_come_first_with_their_reason(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, sign_in: SignIn, scene: Scene
) -> None:
    alice = await sign_in("alice")
    await _play(session, alice.user, scene.tracks["Shoegaze"][1], times=3)
    await session.commit()
    # The graph alone sends a shoegazer to dream pop (the test above); her nearest people by
    # taste are two ravers and, further, one shoegazer.
    raver_a, raver_b = scene.ravers[:2]
    await _publish_people(
        redis, {alice.user: [(raver_a, 0.9), (raver_b, 0.8), (scene.shoegazers[0], 0.3)]}
    )

    body = (await client.get("/users/me/genres/explore?k=4", headers=alice.headers)).json()

    items = body["items"]
    assert [(i["genre"]["slug"], i["basis"]) for i in items] == [
        ("house", "taste_neighbours"),  # ties with techno: both raver neighbours play both
        ("techno", "taste_neighbours"),
        ("dream pop", "taste_neighbours"),  # the further neighbour's, weighted down
    ]
    assert items[0]["reason"] == "2 listeners with your taste play house"
    assert items[0]["reason_parts"] == [
        {"code": "taste_neighbours_play", "params": {"genre": "house", "listeners": 2}}
    ]
    assert items[2]["reason"] == "1 listener with your taste plays dream pop"
    assert items[0]["score"] > items[2]["score"] > 0
    assert [t["title"] for t in items[0]["tracks"]] == ["House 0", "House 3", "House 2"]
    # Shoegaze is hers; nothing else is left to suggest (no duplicates, no filler).
    assert "shoegaze" not in {i["genre"]["slug"] for i in items}


async def test_without_published_people_explore_falls_back_to_the_graph(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, sign_in: SignIn, scene: Scene
) -> None:
    alice = await sign_in("alice")
    await _play(session, alice.user, scene.tracks["Shoegaze"][1], times=3)
    await session.commit()

    no_model = (await client.get("/users/me/genres/explore?k=3", headers=alice.headers)).json()
    # A model that does not know her (trained before her plays): the graph still.
    await _publish_people(redis, {scene.ravers[0]: [(scene.ravers[1], 0.9)]})
    unknown = (await client.get("/users/me/genres/explore?k=3", headers=alice.headers)).json()

    for body in (no_model, unknown):
        first = body["items"][0]
        assert (first["genre"]["slug"], first["basis"]) == ("dream pop", "adjacent")
        assert {i["basis"] for i in body["items"][1:]} == {"popular"}
    assert unknown["items"] == no_model["items"]


async def test_genres_a_listener_played_or_chose_never_come_from_their_neighbours(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, sign_in: SignIn, scene: Scene
) -> None:
    alice = await sign_in("alice")
    await _play(session, alice.user, scene.tracks["Shoegaze"][1], times=3)
    await _play(session, alice.user, scene.tracks["House"][2])  # once, long ago or not
    session.add(UserGenre(user_id=alice.user.id, genre_id=scene.genres["Techno"].id))
    await session.commit()
    await _publish_people(
        redis,
        {alice.user: [(scene.ravers[0], 0.9), (scene.ravers[1], 0.8), (scene.shoegazers[0], 0.1)]},
    )

    items = (await client.get("/users/me/genres/explore?k=5", headers=alice.headers)).json()[
        "items"
    ]

    # House (played) and techno (a favourite) are what her neighbours play most: left out.
    assert [(i["genre"]["slug"], i["basis"]) for i in items] == [("dream pop", "taste_neighbours")]


async def test_taste_neighbours_without_redis_fall_back_to_the_graph(
    session: AsyncSession, redis: Redis, scene: Scene
) -> None:
    gazer = scene.shoegazers[0]
    await _publish_people(redis, {gazer: [(scene.ravers[0], 0.9)]})
    with_redis = await discovery_service.explore(session, redis, gazer.id, 2)
    assert [(i.genre.slug, i.basis) for i in with_redis.items] == [
        ("house", "taste_neighbours"),
        ("techno", "taste_neighbours"),
    ]

    offline = await discovery_service.explore(session, cast(Redis, OfflineRedis()), gazer.id, 2)
    assert {i.basis for i in offline.items} == {"popular"}  # the graph: nothing adjacent left
