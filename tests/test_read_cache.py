"""The read cache: hot public reads come from Redis, and every write shows at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from api.core import cache
from api.core.cache import (
    CATALOG,
    ROOM_LIST,
    Miss,
    ReadCache,
    invalidations_channel,
    listen_for_invalidations,
    near_cache,
    room_scope,
)
from api.deps import get_redis_client
from api.realtime.events import now_ms
from api.realtime.presence import Presence
from tests.conftest import asgi_client
from tests.support.people import CreateRoom, SignIn
from tests.support.queries import recorded_statements
from tunewave.embedded import free_tcp_port


async def _read(client: httpx.AsyncClient, url: str, **kwargs: object) -> tuple[object, int]:
    with recorded_statements() as statements:
        response = await client.get(url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json(), len(statements)


async def test_a_repeated_public_read_does_not_touch_the_database(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    owner = await sign_in("owner")
    room = await create_room(owner, "Cached")
    posted = await client.post(f"/chat/{room['id']}", json={"text": "hi"}, headers=owner.headers)
    assert posted.status_code == 201
    for url in ("/rooms/", f"/rooms/{room['id']}", f"/chat/{room['id']}?limit=50"):
        first, first_statements = await _read(client, url)
        again, again_statements = await _read(client, url)
        assert first_statements > 0
        assert (again, again_statements) == (first, 0), url


async def test_every_write_shows_in_the_next_read(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    owner, listener = await sign_in("owner"), await sign_in("listener")
    older = await create_room(owner, "Older")
    room = await create_room(owner, "Newer")
    room_url, chat_url = f"/rooms/{room['id']}", f"/chat/{room['id']}?limit=10"
    for url in ("/rooms/", room_url, chat_url):
        await client.get(url)  # cached now

    renamed = await client.put(room_url, json={"name": "Renamed"}, headers=owner.headers)
    assert renamed.status_code == 200
    assert (await client.get(room_url)).json()["name"] == "Renamed"
    assert {r["name"] for r in (await client.get("/rooms/")).json()} == {"Renamed", "Older"}

    joined = await client.post(f"{room_url}/join", headers=listener.headers)
    assert joined.status_code == 200
    assert (await client.get(room_url)).json()["member_count"] == 2

    # A message in the older room moves it to the top of the activity-ordered list.
    older_chat = f"/chat/{older['id']}"
    await client.get(f"{older_chat}?limit=10")
    posted = await client.post(older_chat, json={"text": "first!"}, headers=owner.headers)
    assert posted.status_code == 201
    assert [m["text"] for m in (await client.get(f"{older_chat}?limit=10")).json()] == ["first!"]
    assert [r["name"] for r in (await client.get("/rooms/")).json()] == ["Older", "Renamed"]

    left = await client.post(f"{room_url}/leave", headers=listener.headers)
    assert left.status_code == 200
    assert (await client.get(room_url)).json()["member_count"] == 1

    deleted = await client.delete(room_url, headers=owner.headers)
    assert deleted.status_code == 200
    assert (await client.get(room_url)).status_code == 404
    assert (await client.get(chat_url)).status_code == 404
    assert [r["name"] for r in (await client.get("/rooms/")).json()] == ["Older"]


async def test_a_rename_refreshes_cached_chat_pages_and_member_names(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    owner = await sign_in("owner")
    room = await create_room(owner, "Names")
    chat_url = f"/chat/{room['id']}?limit=10"
    await client.post(f"/chat/{room['id']}", json={"text": "hello"}, headers=owner.headers)
    assert (await client.get(chat_url)).json()[0]["user"]["display_name"] == "owner"

    changed = await client.patch("/users/me", json={"display_name": "DJ"}, headers=owner.headers)
    assert changed.status_code == 200
    assert (await client.get(chat_url)).json()[0]["user"]["display_name"] == "DJ"

    gone = await client.delete("/users/me", headers=owner.headers)
    assert gone.status_code in (200, 204)
    # The owner was alone: the room closed with them.
    assert (await client.get(chat_url)).status_code == 404


async def test_private_rooms_chat_is_never_cached(
    client: httpx.AsyncClient, redis: Redis, sign_in: SignIn, create_room: CreateRoom
) -> None:
    owner, stranger = await sign_in("owner"), await sign_in("stranger")
    room = await create_room(owner, "Secret", is_private=True, password="letmein")
    chat_url = f"/chat/{room['id']}?limit=10"
    await client.post(f"/chat/{room['id']}", json={"text": "psst"}, headers=owner.headers)
    for _ in range(2):
        assert (await client.get(chat_url, headers=owner.headers)).status_code == 200
    assert (await client.get(chat_url)).status_code == 401
    assert (await client.get(chat_url, headers=stranger.headers)).status_code == 403
    entries, _ = cache._keys(room_scope(room["id"]))
    assert not [field for field in await redis.hkeys(entries) if field.startswith("limit")]


async def test_an_answer_computed_before_a_commit_is_never_stored_after_it(
    redis: Redis,
) -> None:
    read_cache = ReadCache(redis)
    before = await read_cache.get(ROOM_LIST, "page")
    assert isinstance(before, Miss)
    # A writer commits and invalidates while the reader is still querying PostgreSQL.
    await read_cache.invalidate([ROOM_LIST])
    assert not await read_cache.put(ROOM_LIST, "page", '["stale"]', before)
    assert isinstance(await read_cache.get(ROOM_LIST, "page"), Miss)

    fresh = await read_cache.get(ROOM_LIST, "page")
    assert isinstance(fresh, Miss)
    assert await read_cache.put(ROOM_LIST, "page", '["fresh"]', fresh)
    assert await read_cache.get(ROOM_LIST, "page") == '["fresh"]'


async def test_entries_expire_and_a_scope_is_bounded(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MAX_FIELDS", 3)
    read_cache = ReadCache(redis)
    stored = []
    for n in range(5):
        miss = await read_cache.get(CATALOG, f"q={n}")
        assert isinstance(miss, Miss)
        stored.append(await read_cache.put(CATALOG, f"q={n}", "[]", miss))
    assert stored == [True, True, True, False, False]
    entries, _ = cache._keys(CATALOG)
    assert 0 < await redis.ttl(entries) <= cache.ENTRY_TTL_S


async def test_a_failed_write_invalidates_nothing(
    client: httpx.AsyncClient, redis: Redis, sign_in: SignIn, create_room: CreateRoom
) -> None:
    owner = await sign_in("owner")
    await create_room(owner, "Taken")
    room = await create_room(owner, "Mine")
    await client.get(f"/rooms/{room['id']}")
    _, generation = cache._keys(room_scope(room["id"]))
    before = await redis.get(generation)
    clash = await client.put(f"/rooms/{room['id']}", json={"name": "taken"}, headers=owner.headers)
    assert clash.status_code == 409
    assert await redis.get(generation) == before
    with recorded_statements() as statements:
        assert (await client.get(f"/rooms/{room['id']}")).json()["name"] == "Mine"
    assert statements == []


@pytest.fixture
async def unreachable_redis_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    dead = Redis(
        port=free_tcp_port(),
        socket_connect_timeout=0.2,
        decode_responses=True,
        retry=Retry(NoBackoff(), retries=0),
    )
    app.dependency_overrides[get_redis_client] = lambda: dead
    async with asgi_client(app) as client:
        yield client
    await dead.aclose()


async def test_reads_answer_from_postgresql_when_redis_is_unreachable(
    unreachable_redis_client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    owner = await sign_in("owner")
    room = await create_room(owner, "Resilient")
    for url in ("/rooms/", f"/rooms/{room['id']}", f"/chat/{room['id']}?limit=5"):
        response = await unreachable_redis_client.get(url)
        assert response.status_code == 200, url
    search = await unreachable_redis_client.get(
        "/spotify-public/search/tracks", params={"query": "anything"}
    )
    assert search.status_code == 200


@pytest.fixture
async def listening(redis: Redis) -> AsyncIterator[None]:
    """This process hears invalidations, as a served app does from its lifespan."""
    task = asyncio.create_task(listen_for_invalidations(redis))
    for _ in range(1000):  # up to 10 s on a loaded machine
        if near_cache.listening:
            break
        await asyncio.sleep(0.01)
    assert near_cache.listening
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not near_cache.listening


async def test_the_near_cache_serves_this_process_until_any_process_invalidates(
    redis: Redis, listening: None
) -> None:
    read_cache = ReadCache(redis)
    miss = await read_cache.get("room:near", "view")
    assert isinstance(miss, Miss)
    assert await read_cache.put("room:near", "view", '"v1"', miss)
    # Redis's copy is gone, this process still answers from its own.
    await redis.delete(cache._keys("room:near")[0])
    assert await read_cache.get("room:near", "view") == '"v1"'

    # Another process invalidates: only its message reaches this one.
    await redis.publish(invalidations_channel(redis), json.dumps(["room:near"]))
    for _ in range(1000):  # up to 10 s on a loaded machine
        if near_cache.get("room:near", "view") is None:
            break
        await asyncio.sleep(0.01)
    assert isinstance(await read_cache.get("room:near", "view"), Miss)


async def test_the_near_cache_keeps_nothing_fetched_before_an_invalidation(
    redis: Redis, listening: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_cache = ReadCache(redis)
    miss = await read_cache.get("room:race", "view")
    assert isinstance(miss, Miss)
    near_cache.drop(["room:other"])  # an invalidation heard while this answer was computed
    assert await read_cache.put("room:race", "view", '"old"', miss)  # Redis's generation held
    assert near_cache.get("room:race", "view") is None

    now = [1000.0]
    monkeypatch.setattr(near_cache, "clock", lambda: now[0])
    assert await read_cache.get("room:race", "view") == '"old"'
    assert near_cache.get("room:race", "view") == '"old"'
    now[0] += cache.LOCAL_TTL_S
    # Expired: the first reader refreshes it, the others meanwhile keep the old copy ...
    assert near_cache.get("room:race", "view") is None
    assert near_cache.get("room:race", "view") == '"old"'
    # ... for a moment only, should that refresh never come back.
    now[0] += cache.LOCAL_REFRESH_GRACE_S
    assert near_cache.get("room:race", "view") is None
    near_cache.put("room:race", "view", '"new"', near_cache.epoch)
    assert near_cache.get("room:race", "view") == '"new"'


async def test_without_the_subscription_the_near_cache_is_off() -> None:
    dead = Redis(port=free_tcp_port(), retry=Retry(NoBackoff(), retries=0))
    task = asyncio.create_task(listen_for_invalidations(dead, retry_s=0.01))
    await asyncio.sleep(0.1)
    assert not near_cache.listening
    near_cache.put("room:off", "view", '"x"', near_cache.epoch)
    assert near_cache.get("room:off", "view") is None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await dead.aclose()


def test_each_redis_database_has_its_own_invalidations_channel() -> None:
    first = Redis.from_url("redis://127.0.0.1:6379/3")
    other = Redis.from_url("redis://127.0.0.1:6379/4")
    assert invalidations_channel(first) != invalidations_channel(other)


async def test_online_counts_in_cached_room_reads_are_fresh_within_the_bound(
    client: httpx.AsyncClient,
    redis: Redis,
    sign_in: SignIn,
    create_room: CreateRoom,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache, "ONLINE_COUNT_MAX_AGE_S", 1)
    owner, listener = await sign_in("owner"), await sign_in("listener")
    room = await create_room(owner, "Who is here")
    await client.post(f"/rooms/{room['id']}/join", headers=listener.headers)
    urls = ("/rooms/", f"/rooms/{room['id']}")
    for url in urls:
        body, _ = await _read(client, url)
        shown = body[0] if isinstance(body, list) else body
        assert (shown["member_count"], shown["online_count"]) == (2, 0)  # type: ignore[index]
    # Room answers live only ONLINE_COUNT_MAX_AGE_S; other scopes keep the longer TTL.
    for scope in (ROOM_LIST, room_scope(room["id"])):
        assert 0 < await redis.ttl(cache._keys(scope)[0]) <= 1

    # The listener connects (two sockets): one person here, without any commit.
    presence = Presence(redis, 15)
    for socket in ("p1:1", "p2:1"):
        await presence.join(room["id"], str(listener.user.id), socket, {}, now_ms())

    async def online_counts() -> list[int]:
        counts = []
        for url in urls:
            body = (await client.get(url)).json()
            counts.append((body[0] if isinstance(body, list) else body)["online_count"])
        return counts

    deadline = asyncio.get_running_loop().time() + 1 + cache.LOCAL_TTL_S + 5
    while (counts := await online_counts()) != [1, 1]:
        assert asyncio.get_running_loop().time() < deadline, counts
        await asyncio.sleep(0.2)
    # Writes still invalidate at once: the member count moves on the next read.
    await client.post(f"/rooms/{room['id']}/leave", headers=listener.headers)
    for url in urls:
        body, _ = await _read(client, url)
        shown = body[0] if isinstance(body, list) else body
        assert shown["member_count"] == 1  # type: ignore[index]
