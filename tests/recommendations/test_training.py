"""The training pipeline against real PostgreSQL and Redis: export, holdout evaluation,
refusing a worse model, model_runs, and the published version the API serves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.config import Settings, get_settings
from api.models import ListeningEvent, ListeningSource, ModelRun, ModelRunStatus, Track, User
from api.recommendations import store
from api.recommendations.reasons import render
from api.recommendations.training import LEASE, training_service
from tests.factories import auth_headers, create_genre, create_track, create_user
from tests.support.leases import lease_held_elsewhere

CLUSTERS = ("Shoegaze", "Techno", "Jazz")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings().model_copy(update={"data_dir": tmp_path})


async def _listeners(session: AsyncSession) -> dict[str, list[User]]:
    """Three taste clusters: 12 listeners each playing 10 of their cluster's 20 tracks."""
    rng = random.Random(7)
    people: dict[str, list[User]] = {}
    now = datetime.now(UTC)
    for name in CLUSTERS:
        genre = await create_genre(session, name)
        tracks: list[Track] = [
            await create_track(
                session, title=f"{name} {n}", artists=(f"{name} Act {n % 4}",), genres=[genre]
            )
            for n in range(20)
        ]
        people[name] = []
        for _ in range(12):
            user = await create_user(session, display_name=f"{name} fan")
            people[name].append(user)
            for m, track in enumerate(rng.sample(tracks, 10)):
                session.add(
                    ListeningEvent(
                        user_id=user.id,
                        track_id=track.id,
                        source=ListeningSource.demo,
                        played_at=now - timedelta(minutes=m),
                        ms_played=1000,
                    )
                )
    await session.flush()
    await session.commit()
    return people


async def test_a_first_training_is_evaluated_recorded_and_published(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> None:
    people = await _listeners(session)

    result = await training_service.train_and_publish(redis, settings, maker=sessionmaker)

    assert result.status == "published"
    assert (result.n_users, result.n_items, result.n_interactions) == (36, 60, 360)
    assert result.live_metrics is None
    assert 0 < result.metrics["ndcg@10"] <= 1
    assert await store.live_version(redis) == result.version
    run = await session.scalar(select(ModelRun).where(ModelRun.version == result.version))
    assert run is not None
    assert run.status is ModelRunStatus.published
    assert run.published_at is not None
    assert run.metrics["ndcg@10"] == result.metrics["ndcg@10"]
    assert run.artifact_path is not None
    assert Path(run.artifact_path).is_file()  # noqa: ASYNC240
    # A shoegaze fan's tracks are shoegaze tracks they have not played, with reasons.
    fan = people["Shoegaze"][0]
    tracks = await store.user_entry(redis, result.version, "tracks", str(fan.id))
    assert tracks is not None
    assert len(tracks) == 50  # every track they have not played, best first
    top = tracks[:10]
    assert all(entry["track"]["genres"] == ["shoegaze"] for entry in top)
    assert all(entry["reason"] for entry in top)
    # Parts a client can translate, saying what the English says.
    assert all(entry["reason"] == render(entry["reason_parts"]) for entry in tracks)
    assert top[0]["reason_parts"][0] == {"code": "genre_you_play", "params": {"genre": "shoegaze"}}
    people_entries = await store.user_entry(redis, result.version, "users", str(fan.id))
    cluster = {str(user.id) for user in people["Shoegaze"]}
    assert people_entries is not None
    assert sum(entry["user_id"] in cluster for entry in people_entries[:5]) == 5
    assert str(fan.id) not in {entry["user_id"] for entry in people_entries}
    assert people_entries[0]["reason"].startswith("you both play")
    assert people_entries[0]["reason_parts"][0]["code"] == "you_both_play"
    assert "shoegaze" in people_entries[0]["reason_parts"][0]["params"]["genres"]
    assert all(entry["reason"] == render(entry["reason_parts"]) for entry in people_entries)


async def test_a_worse_model_is_recorded_as_rejected_and_the_live_one_stays(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> None:
    await _listeners(session)
    first = await training_service.train_and_publish(redis, settings, maker=sessionmaker)

    worse = await training_service.train_and_publish(
        redis, settings, maker=sessionmaker, model_name="popularity"
    )

    assert worse.status == "rejected"
    assert worse.live_version == first.version
    assert worse.metrics["ndcg@10"] < worse.live_metrics["ndcg@10"]  # type: ignore[index]
    assert await store.live_version(redis) == first.version
    run = await session.scalar(select(ModelRun).where(ModelRun.version == worse.version))
    assert run is not None
    assert run.status is ModelRunStatus.rejected
    assert run.published_at is None
    assert run.metrics["live_ndcg@10"] == worse.live_metrics["ndcg@10"]  # type: ignore[index]
    # The same configuration again is not worse: it is published as a new version.
    again = await training_service.train_and_publish(redis, settings, maker=sessionmaker)
    assert again.status == "published"
    assert await store.live_version(redis) == again.version
    assert await redis.ttl(store.version_key(first.version, "tracks")) > 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model_name", "params"),
    [("ease", {"l2": 10.0}), ("hybrid", {"cf": "rp3beta", "content_weight": 0.1})],
)
async def test_ease_and_rp3beta_are_trained_and_published_like_the_others(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
    model_name: str,
    params: dict[str, object],
) -> None:
    people = await _listeners(session)

    result = await training_service.train_and_publish(
        redis, settings, maker=sessionmaker, model_name=model_name, params=params
    )

    assert result.status == "published"
    assert await store.live_version(redis) == result.version
    meta = await store.meta(redis, result.version)
    assert meta is not None
    assert (meta["model"], meta["params"]) == (model_name, params)
    fan = people["Techno"][0]
    tracks = await store.user_entry(redis, result.version, "tracks", str(fan.id))
    assert tracks is not None
    assert all(entry["track"]["genres"] == ["techno"] for entry in tracks[:10])


async def test_without_enough_listening_nothing_is_trained(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings
) -> None:
    result = await training_service.train_and_publish(redis, settings, maker=sessionmaker)

    assert result.status == "skipped"
    assert await store.live_version(redis) is None


async def test_the_api_serves_the_trained_model(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
) -> None:
    people = await _listeners(session)
    result = await training_service.train_and_publish(redis, settings, maker=sessionmaker)
    fan = people["Techno"][3]
    headers = auth_headers(get_settings(), fan)

    tracks = (await client.get("/recommendations/tracks", headers=headers)).json()
    users = (await client.get("/recommendations/users", headers=headers)).json()

    assert tracks["model_version"] == result.version
    assert tracks["items"][0]["basis"] == "model"
    assert tracks["items"][0]["track"]["genres"] == ["techno"]
    assert users["model_version"] == result.version
    assert users["items"][0]["user"]["display_name"] == "Techno fan"
    assert "techno" in users["items"][0]["shared_genres"]


async def test_a_training_while_another_runs_answers_busy_and_trains_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    redis: Redis,
    settings: Settings,
) -> None:
    """One training at a time whoever starts it: the lease is taken by the service itself,
    so `tunewave train` and a worker never train at once."""
    await _listeners(session)
    quick = settings.model_copy(update={"task_lease_ttl_s": 1.5})

    with lease_held_elsewhere(quick.require_redis_url(), LEASE, quick.task_lease_ttl_s):
        busy = await training_service.train_and_publish(redis, quick, maker=sessionmaker)

    assert busy.status == "busy"
    assert await store.live_version(redis) is None
    async with sessionmaker() as check:
        assert await check.scalar(select(ModelRun.id)) is None
    # Released: the next training runs.
    after = await training_service.train_and_publish(redis, quick, maker=sessionmaker)
    assert after.status == "published"
