"""The fault suite's stack: its own PostgreSQL and Redis (killed and restarted by the tests),
two API processes on them, settings shortened so a reduced scenario runs in seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.harness import Stack

# Presence refreshes every third of its TTL: 0.5 s here.
PRESENCE_TTL_S = 1.5
REFRESH_S = PRESENCE_TTL_S / 3

API_SETTINGS = {
    "TUNEWAVE_WS_PRESENCE_TTL_S": str(PRESENCE_TTL_S),
    "TUNEWAVE_WS_PRESENCE_PROCESS_GRACE_S": "60",
}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with Stack(**API_SETTINGS) as started:
        started.start_apis(2)
        yield started
