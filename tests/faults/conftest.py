"""The fault suite's stack: its own PostgreSQL and Redis (killed and restarted by the tests),
two API processes and two Celery workers on them, settings shortened so a reduced scenario
runs in seconds. One stack for the whole suite: starting processes is what takes time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.harness import Stack
from tests.faults.scenarios import seed_listening

# Presence refreshes every third of its TTL: 0.5 s here.
PRESENCE_TTL_S = 1.5
REFRESH_S = PRESENCE_TTL_S / 3

SETTINGS = {
    "TUNEWAVE_WS_PRESENCE_TTL_S": str(PRESENCE_TTL_S),
    "TUNEWAVE_WS_PRESENCE_PROCESS_GRACE_S": "60",
    # A lost worker's task is redelivered after 4 s instead of 30 s.
    "TUNEWAVE_CELERY_VISIBILITY_TIMEOUT_S": "4",
    "TUNEWAVE_CELERY_RESTORE_INTERVAL_S": "1",
    "TUNEWAVE_TASK_LEASE_TTL_S": "6",
}


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    async with Stack(SETTINGS) as started:
        # Everything starts at once; the workers are waited for by the tests that use them.
        started.spawn_worker()
        started.spawn_worker()
        started.start_apis(2)
        await seed_listening(started, listeners=12, tracks_per_genre=8)
        yield started


@pytest.fixture
def workers(stack: Stack) -> Stack:
    for process in stack.workers:
        stack.wait_worker(process)
    return stack
