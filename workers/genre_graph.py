"""The genre co-listening graph (api/discovery): hourly and after each training run.

Reads every play from PostgreSQL, fits ``recommender.explore.GenreGraph`` and publishes it to
Redis (api/discovery/graph.py) for ``GET /users/me/genres/explore`` and the genre pages.
Idempotent: a run replaces the published graph with one built from the same data. One build
at a time (a lease); a second one while it runs answers "busy".
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from api.core.config import get_settings
from api.core.db import session_scope
from api.core.lease import run_leased
from api.core.redis import get_redis
from api.discovery.service import GraphBuild, discovery_service
from workers.base import TuneWaveTask, run_async
from workers.celery_app import app

logger = logging.getLogger(__name__)


async def _build_once() -> GraphBuild:
    async with session_scope() as session:
        return await discovery_service.build_and_publish_graph(session, get_redis())


async def build_once() -> GraphBuild | None:
    """Build and publish the graph; None when another build holds the lease."""
    outcome = await run_leased(
        get_redis(), "genre-graph", None, get_settings().task_lease_ttl_s, _build_once
    )
    return outcome.value if outcome.status == "ran" else None


@app.task(
    base=TuneWaveTask,
    name="workers.genre_graph.build_genre_graph",
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    max_retries=3,
)
def build_genre_graph(reason: str = "scheduled") -> dict[str, Any]:
    result = run_async(build_once)
    if result is None:
        logger.info("genre graph (%s): another build holds the lease", reason)
        return {"status": "busy"}
    logger.info("genre graph (%s): %s", reason, result)
    return asdict(result)
