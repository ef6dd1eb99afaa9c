"""The worker heartbeat: proof, readable in Redis, that beat schedules and a worker consumes.

Every ``HEARTBEAT_INTERVAL_S`` beat sends ``heartbeat``; the worker that runs it checks that
it reaches PostgreSQL and writes ``tunewave:worker:heartbeat`` (JSON: when, which worker,
database status) with a TTL of a few intervals, so a missing key means no worker is alive.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from api.core.db import session_scope
from api.core.redis import get_redis
from workers.base import TuneWaveTask, run_async
from workers.celery_app import HEARTBEAT_INTERVAL_S, app

HEARTBEAT_KEY = "tunewave:worker:heartbeat"
HEARTBEAT_TTL_S = int(HEARTBEAT_INTERVAL_S * 4)


async def _record_heartbeat(worker: str) -> dict[str, Any]:
    async with session_scope() as session:
        await session.execute(text("SELECT 1"))
    beat = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "worker": worker,
        "database": "ok",
    }
    await get_redis().set(HEARTBEAT_KEY, json.dumps(beat), ex=HEARTBEAT_TTL_S)
    return beat


@app.task(base=TuneWaveTask, name="workers.heartbeat.heartbeat")
def heartbeat() -> dict[str, Any]:
    worker = heartbeat.request.hostname or socket.gethostname()
    return run_async(lambda: _record_heartbeat(worker))
