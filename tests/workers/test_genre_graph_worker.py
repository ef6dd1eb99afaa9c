"""workers.genre_graph.build_genre_graph, run by a real Celery worker on the test broker and
database. Rows are committed (the worker is another process) and removed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete

from api.core.db import session_scope
from api.discovery import graph as graph_store
from api.models import Artist, Genre, ListeningEvent, ListeningSource, Track, User
from tests.factories import create_track, create_user
from tests.support.workers import celery_worker, until
from workers.genre_graph import build_genre_graph

PREFIX = "wkg"


@pytest.fixture
async def committed(redis: Redis) -> AsyncIterator[dict[str, list]]:
    made: dict[str, list] = {"users": [], "genres": []}
    graph_store.clear_cache()
    yield made
    graph_store.clear_cache()
    async with session_scope() as session:
        await session.execute(delete(User).where(User.id.in_(made["users"])))
        await session.execute(delete(Track).where(Track.title.startswith(PREFIX)))
        await session.execute(delete(Artist).where(Artist.name.startswith(PREFIX)))
        await session.execute(delete(Genre).where(Genre.id.in_(made["genres"])))


async def test_a_worker_builds_and_publishes_the_genre_graph(
    redis: Redis, committed: dict[str, list], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    async with session_scope() as session:
        # Two scenes: a+b played together by four listeners, c+d by three.
        tracks = {}
        for name in "abcd":
            genre = Genre(slug=f"{PREFIX} {name}", name=f"{PREFIX} {name}")
            session.add(genre)
            await session.flush()
            committed["genres"].append(genre.id)
            tracks[name] = await create_track(
                session, title=f"{PREFIX} {name}", artists=(f"{PREFIX} {name}",), genres=[genre]
            )
        for pair, listeners in (("ab", 4), ("cd", 3)):
            for _ in range(listeners):
                user = await create_user(session)
                committed["users"].append(user.id)
                for name in pair:
                    session.add(
                        ListeningEvent(
                            user_id=user.id,
                            track_id=tracks[name].id,
                            source=ListeningSource.demo,
                            played_at=now - timedelta(minutes=1),
                            ms_played=1000,
                        )
                    )
    assert await graph_store.load(redis) is None

    with celery_worker(tmp_path):
        build_genre_graph.delay(reason="test")
        await until(lambda: graph_store.load(redis), 60, "the genre graph")
        loaded = await graph_store.load(redis)
        assert loaded is not None

    assert loaded.graph.neighbours(f"{PREFIX} a", 3) == [(f"{PREFIX} b", pytest.approx(1.0))]
    assert loaded.graph.neighbours(f"{PREFIX} c", 3) == [(f"{PREFIX} d", pytest.approx(1.0))]
    assert loaded.graph.listeners(f"{PREFIX} a") == 4
    assert 0 < await redis.ttl(graph_store.GRAPH_KEY) <= graph_store.GRAPH_TTL_S
