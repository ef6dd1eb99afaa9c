"""Hourly genre enrichment (see api/genres/enrichment.py): provider first, then the catalog.

Idempotent: every fill is an insert that skips what exists, and an artist is asked about once.
When Spotify rate-limits, what was stored is committed and the task comes back after
Retry-After (a capped number of times).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from api.core.config import get_settings
from api.core.db import session_scope
from api.core.lease import run_leased
from api.core.redis import get_redis
from api.genres.enrichment import EnrichmentResult, enrichment_service
from workers.base import TuneWaveTask, run_async
from workers.celery_app import app

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 30 * 60


async def _enrich_once() -> EnrichmentResult:
    async with session_scope() as session:
        return await enrichment_service.enrich(session, get_redis(), get_settings())


async def _enrich() -> EnrichmentResult | None:
    """One enrichment at a time (a lease, api/core/lease.py); None when one is running.
    No completion record: a rate-limited run retries under the same task id, and a second
    run finds everything already asked."""
    outcome = await run_leased(
        get_redis(), "genre-enrichment", None, get_settings().task_lease_ttl_s, _enrich_once
    )
    return outcome.value if outcome.status == "ran" else None


@app.task(
    base=TuneWaveTask,
    name="workers.genre_enrichment.enrich_genres",
    bind=True,
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
    max_retries=3,
)
def enrich_genres(self: Any) -> dict[str, Any]:
    result = run_async(_enrich)
    if result is None:
        logger.info("genre enrichment: another run holds the lease")
        return {"status": "busy"}
    logger.info("genre enrichment: %s", result)
    if result.retry_after_s is not None and self.request.retries < self.max_retries:
        # The work so far is committed; the rest waits for Spotify's Retry-After.
        raise self.retry(countdown=min(max(result.retry_after_s, 1), MAX_RETRY_AFTER_S))
    return asdict(result)
