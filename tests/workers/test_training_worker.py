"""Training and genre enrichment run by a real Celery worker on the test broker and
database. Rows are committed (the worker is another process) and removed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, select

from api.core.db import session_scope
from api.discovery import graph as graph_store
from api.models import (
    Artist,
    ArtistGenre,
    Genre,
    ListeningEvent,
    ListeningSource,
    ModelRun,
    ModelRunStatus,
    Track,
    User,
)
from api.recommendations import store
from tests.factories import create_track, create_user
from tests.support.workers import celery_worker, until
from workers.genre_enrichment import enrich_genres
from workers.training import train_recommender

PREFIX = "wkt"


@pytest.fixture
async def committed(redis: Redis) -> AsyncIterator[dict[str, list]]:
    made: dict[str, list] = {"users": [], "genres": [], "versions": []}
    graph_store.clear_cache()
    yield made
    graph_store.clear_cache()
    async with session_scope() as session:
        await session.execute(delete(User).where(User.id.in_(made["users"])))
        await session.execute(delete(Track).where(Track.title.startswith(PREFIX)))
        await session.execute(delete(Artist).where(Artist.name.startswith(PREFIX)))
        await session.execute(delete(Genre).where(Genre.id.in_(made["genres"])))
        await session.execute(delete(ModelRun).where(ModelRun.version.in_(made["versions"])))


async def test_a_worker_trains_and_publishes_a_model(
    redis: Redis, committed: dict[str, list], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    async with session_scope() as session:
        for cluster in ("a", "b"):
            genre = Genre(slug=f"{PREFIX} {cluster}", name=f"{PREFIX} {cluster}")
            session.add(genre)
            await session.flush()
            committed["genres"].append(genre.id)
            tracks = [
                await create_track(
                    session,
                    title=f"{PREFIX} {cluster}{n}",
                    artists=(f"{PREFIX} {cluster}",),
                    genres=[genre],
                )
                for n in range(8)
            ]
            for n in range(6):
                user = await create_user(session)
                committed["users"].append(user.id)
                for m, track in enumerate(tracks[n % 3 : n % 3 + 5]):
                    session.add(
                        ListeningEvent(
                            user_id=user.id,
                            track_id=track.id,
                            source=ListeningSource.demo,
                            played_at=now - timedelta(minutes=m),
                            ms_played=1000,
                        )
                    )

    assert await graph_store.load(redis) is None
    with celery_worker(tmp_path, TUNEWAVE_DATA_DIR=str(tmp_path)):
        train_recommender.delay(reason="test")

        async def published() -> bool:
            return await store.live_version(redis) is not None

        await until(published, 120, "a published model")

        # Every training run queues a rebuild of the genre graph from the same plays.
        async def graph_published() -> bool:
            return await graph_store.load(redis) is not None

        await until(graph_published, 60, "the genre graph after training")

    version = await store.live_version(redis)
    assert version is not None
    committed["versions"].append(version)
    async with session_scope() as session:
        run = await session.scalar(select(ModelRun).where(ModelRun.version == version))
        assert run is not None
        assert run.status is ModelRunStatus.published
        assert run.n_users == 12
    answer = await store.user_entry(redis, version, "tracks", str(committed["users"][0]))
    assert answer
    assert all(entry["reason"] for entry in answer)


async def test_a_worker_enriches_genres_from_the_catalog(
    redis: Redis, committed: dict[str, list], tmp_path: Path
) -> None:
    async with session_scope() as session:
        genre = Genre(slug=f"{PREFIX} dub", name=f"{PREFIX} Dub")
        session.add(genre)
        await session.flush()
        committed["genres"].append(genre.id)
        await create_track(
            session, title=f"{PREFIX} one", artists=(f"{PREFIX} Tubby",), genres=[genre]
        )
        artist_id = await session.scalar(select(Artist.id).where(Artist.name == f"{PREFIX} Tubby"))

    async def enriched() -> bool:
        async with session_scope() as session:
            return bool(
                await session.scalar(
                    select(ArtistGenre.genre_id).where(ArtistGenre.artist_id == artist_id)
                )
            )

    with celery_worker(tmp_path):
        assert not await enriched()
        enrich_genres.delay()
        await until(enriched, 60, "the artist's genres")
