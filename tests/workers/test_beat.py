"""Only one beat schedules: the others wait as standbys until the leader's lock is gone."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from workers.beat import LOCK_KEY, LOCK_TTL_S, STANDBY_POLL_S, SingleBeatScheduler
from workers.celery_app import app


def _scheduler(path: Path) -> SingleBeatScheduler:
    return SingleBeatScheduler(app=app, schedule_filename=str(path))


async def test_one_leader_and_a_standby_that_takes_over(redis: Redis, tmp_path: Path) -> None:
    # The schedule file's folder does not exist yet, as in a fresh checkout's data dir.
    leader = _scheduler(tmp_path / "a" / "celerybeat-schedule")
    standby = _scheduler(tmp_path / "b" / "celerybeat-schedule")
    try:
        assert leader.tick() <= LOCK_TTL_S / 3
        assert leader.is_leader
        assert await redis.get(LOCK_KEY) == leader.lock_token
        assert 0 < await redis.pttl(LOCK_KEY) <= LOCK_TTL_S * 1000

        assert standby.tick() == STANDBY_POLL_S
        assert not standby.is_leader
        # The leader renews its own lock on every tick.
        leader.tick()
        assert leader.is_leader

        leader.close()
        assert await redis.get(LOCK_KEY) is None
        standby.tick()
        assert standby.is_leader
        assert await redis.get(LOCK_KEY) == standby.lock_token
    finally:
        leader.close()
        standby.close()
    assert await redis.get(LOCK_KEY) is None


async def test_a_lock_taken_over_is_not_renewed_by_the_old_leader(
    redis: Redis, tmp_path: Path
) -> None:
    leader = _scheduler(tmp_path / "celerybeat-schedule")
    try:
        leader.tick()
        assert leader.is_leader
        # The leader stalled past its TTL and another beat took the lock.
        await redis.set(LOCK_KEY, "someone-else", px=int(LOCK_TTL_S * 1000))
        assert leader.tick() == STANDBY_POLL_S
        assert not leader.is_leader
        assert await redis.get(LOCK_KEY) == "someone-else"
    finally:
        leader.close()
    assert await redis.get(LOCK_KEY) == "someone-else"
