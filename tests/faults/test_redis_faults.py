"""Redis killed while people chat, Redis down when a track ends, an API process stalled:
reduced forms of ``bench/faults.py`` against a stack of our own (see harness.py)."""

from __future__ import annotations

import pytest

from tests.faults.conftest import REFRESH_S
from tests.faults.harness import Stack
from tests.faults.scenarios import api_stall, redis_down_at_track_end, redis_outage

# The first test of the suite also waits for the stack (servers, API processes, workers) to
# start, which takes minutes on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(600)


async def test_chat_presence_and_answers_survive_redis_killed_and_restarted_empty(
    stack: Stack,
) -> None:
    result = await redis_outage(
        stack, listeners=6, outage_s=4, chat_period_s=1.5, refresh_s=REFRESH_S
    )
    print(result.figures)
    assert result.acked, "nothing was acknowledged"
    assert result.figures["rest_posts"] > 0, "no REST post succeeded while Redis was down"
    assert result.missing_from_store == set()
    assert result.duplicates_in_store == []
    assert all(missing == 0 for missing in result.missing_per_client.values()), (
        result.missing_per_client
    )
    assert result.internal_errors == 0
    assert result.server_errors == []
    assert result.false_lefts == []
    # Recommendations answer from PostgreSQL; /readyz says Redis is down, then that it is back.
    assert set(result.recommendations_during) == {200}
    assert 503 in result.readyz_during


async def test_playback_moves_on_once_redis_returns_after_a_track_ended(stack: Stack) -> None:
    result = await redis_down_at_track_end(
        stack, track_ms=3000, down_before_end_s=1.0, down_after_end_s=2.0
    )
    print(result.figures)
    assert result.seen_by == 2


async def test_presence_converges_after_an_api_process_stalls_without_false_lefts(
    stack: Stack,
) -> None:
    result = await api_stall(stack, listeners=6, stall_s=4 * 1.5, refresh_s=REFRESH_S)
    print(result.figures)
    assert result.false_lefts == []
    # While stalled its users' presence expired (they drop out of the count, nobody "left")...
    assert result.online_during_stall < 6
