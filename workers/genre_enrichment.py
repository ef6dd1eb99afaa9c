"""Hourly genre enrichment (see api/genres/enrichment.py): provider first, then the catalog.

Idempotent: every fill is an insert that skips what exists, and an artist is asked about once.
When Spotify rate-limits, what was stored is committed and the task comes back after
Retry-After (a capped number of times).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from api.config import get_settings
from api.db import session_scope
from api.genres.enrichment import EnrichmentResult, enrichment_service
from api.redis import get_redis
from workers.base import TuneWaveTask, run_async
from workers.celery_app import app

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 30 * 60


async def _enrich() -> EnrichmentResult:
    async with session_scope() as session:
        return await enrichment_service.enrich(session, get_redis(), get_settings())


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
    logger.info("genre enrichment: %s", result)
    if result.retry_after_s is not None and self.request.retries < self.max_retries:
        # The work so far is committed; the rest waits for Spotify's Retry-After.
        raise self.retry(countdown=min(max(result.retry_after_s, 1), MAX_RETRY_AFTER_S))
    return asdict(result)
