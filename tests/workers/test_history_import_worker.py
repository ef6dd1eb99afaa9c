"""The history import run by a real Celery worker: real Redis broker, real PostgreSQL, and
the fake Spotify on loopback. Rows here are committed (the worker is another process), so
the fixture removes them afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, func, select

from api.core.config import get_settings
from api.core.db import session_scope
from api.models import Artist, ListeningEvent, OAuthIdentity, Track, User
from tests.factories import create_identity, create_user
from tests.fakes.spotify import FakeSpotify, spotify_track
from tests.support.workers import celery_worker, until
from workers.history_import import import_all_spotify_history, import_spotify_history

T0_MS = 1_790_000_000_000
PREFIX = "wkr"


def _worker_env(fake: FakeSpotify, **extra: str) -> dict[str, str]:
    return {
        "TUNEWAVE_SPOTIFY_CLIENT_ID": fake.client_id,
        "TUNEWAVE_SPOTIFY_ACCOUNTS_URL": fake.base_url,
        "TUNEWAVE_SPOTIFY_API_URL": f"{fake.base_url}/v1",
        **extra,
    }


@pytest.fixture
async def committed_users(redis: Redis) -> AsyncIterator[list[uuid.UUID]]:
    """Users the test commits; they, their history and the tracks imported go afterwards."""
    user_ids: list[uuid.UUID] = []
    yield user_ids
    async with session_scope() as session:
        await session.execute(delete(User).where(User.id.in_(user_ids)))
        await session.execute(delete(Track).where(Track.spotify_id.startswith(PREFIX)))
        await session.execute(delete(Artist).where(Artist.name.startswith(PREFIX)))


async def _link(fake: FakeSpotify, spotify_user: str, user_ids: list[uuid.UUID]) -> uuid.UUID:
    fake.add_user(spotify_user)
    settings = get_settings()
    async with session_scope() as session:
        user = await create_user(session, display_name=spotify_user)
        await create_identity(
            session,
            user,
            settings,
            subject=spotify_user,
            access_token=fake.grant_access_token(spotify_user),
            refresh_token=fake.grant_refresh_token(spotify_user),
        )
        user_ids.append(user.id)
        return user.id


def _plays(fake: FakeSpotify, spotify_user: str, count: int) -> None:
    for n in range(count):
        track_id = f"{PREFIX}{spotify_user[:4]}{n:015d}"[:22]
        track = spotify_track(track_id, f"Song {n}", f"{PREFIX} Artist {n % 4}")
        fake.add_play(spotify_user, track, T0_MS + n * 60_000)


async def _counts(user_id: uuid.UUID) -> tuple[int, int, int | None]:
    """(events, distinct plays, cursor) of a user, read outside any test transaction."""
    async with session_scope() as session:
        events = await session.scalar(select(func.count()).where(ListeningEvent.user_id == user_id))
        play = func.row(ListeningEvent.track_id, ListeningEvent.played_at)
        distinct = await session.scalar(
            select(func.count(func.distinct(play))).where(ListeningEvent.user_id == user_id)
        )
        cursor = await session.scalar(
            select(OAuthIdentity.history_cursor_ms).where(OAuthIdentity.user_id == user_id)
        )
    return int(events or 0), int(distinct or 0), cursor


async def test_beat_fan_out_imports_every_linked_user_and_waits_out_a_429(
    fake_spotify: FakeSpotify, committed_users: list[uuid.UUID], tmp_path: Path
) -> None:
    alice = await _link(fake_spotify, "wk-alice", committed_users)
    bob = await _link(fake_spotify, "wk-bob", committed_users)
    _plays(fake_spotify, "wk-alice", 30)
    _plays(fake_spotify, "wk-bob", 5)
    # Spotify answers the first history request with 429 and Retry-After: 1, then 200s.
    fake_spotify.fail("/v1/me/player/recently-played", 429, times=1, retry_after_s=1)

    with celery_worker(tmp_path, **_worker_env(fake_spotify)) as worker:
        import_all_spotify_history.delay()

        async def both_imported() -> bool:
            a, b = await _counts(alice), await _counts(bob)
            return a[2] is not None and b[2] is not None

        await until(both_imported, 60, "both users' imports")
        assert "Retry in 1s" in worker.log()

    assert await _counts(alice) == (30, 30, T0_MS + 29 * 60_000)
    assert await _counts(bob) == (5, 5, T0_MS + 4 * 60_000)
    history_calls = [r for r in fake_spotify.requests if r[1] == "/v1/me/player/recently-played"]
    # The rate-limited request, then one served request per user.
    assert len(history_calls) == 3
    assert len(fake_spotify.history_requests) == 2


async def test_a_worker_killed_mid_import_is_replaced_and_nothing_is_stored_twice(
    fake_spotify: FakeSpotify, committed_users: list[uuid.UUID], tmp_path: Path
) -> None:
    alice = await _link(fake_spotify, "wk-carol", committed_users)
    _plays(fake_spotify, "wk-carol", 60)  # two pages: 50, then 10
    # The second page never comes: the worker is stuck in the middle of the import.
    fake_spotify.hang_history_from_request = 2
    # A short visibility timeout, so the broker hands the unacknowledged task on quickly.
    env = _worker_env(fake_spotify, TUNEWAVE_CELERY_VISIBILITY_TIMEOUT_S="3")

    with celery_worker(tmp_path, **env) as first:
        import_spotify_history.delay(str(alice))

        async def first_page_stored() -> bool:
            return (await _counts(alice))[0] == 50 and len(fake_spotify.history_requests) >= 2

        await until(first_page_stored, 60, "the first page to be stored")
        first.kill()

    assert await _counts(alice) == (50, 50, None)
    fake_spotify.hang_history_from_request = None
    fake_spotify.faults.clear()  # lets the stalled request end

    with celery_worker(tmp_path, **env):

        async def finished() -> bool:
            return (await _counts(alice))[2] is not None

        # Redelivered by the broker (acks_late + reject on worker lost), not sent again.
        await until(finished, 90, "the redelivered import to finish")

    assert await _counts(alice) == (60, 60, T0_MS + 59 * 60_000)
    # The re-run fetched the first page again and inserted none of it twice.
    assert len(fake_spotify.history_requests) >= 4
