"""Spotify listening history import: every 15 minutes, one task per linked user.

``import_all_spotify_history`` (beat) fans out ``import_spotify_history(user_id)``. The import
stores each page of plays in its own transaction and moves the user's cursor only at the end;
the unique key of ``listening_events`` makes a re-run (after a retry, or a worker killed mid-
import and the task redelivered) skip plays already stored. A rate limit retries after
Spotify's Retry-After; a revoked link is marked on the identity and the task ends quietly.
Each user's import holds a lease (api/core/lease.py): never two at once for one user, and a
redelivery after its worker died takes over at once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from typing import Any

from celery.utils.time import get_exponential_backoff_interval

from api.core.config import get_settings
from api.core.db import session_scope
from api.core.lease import LeasedOutcome, run_leased
from api.core.redis import get_redis
from api.history.service import history_service
from api.integrations.spotify.client import SpotifyRateLimited, SpotifyUnavailable
from workers.base import TuneWaveTask, run_async
from workers.celery_app import app

logger = logging.getLogger(__name__)

IMPORT_SOFT_TIME_LIMIT_S = 120
IMPORT_TIME_LIMIT_S = 180
# Spotify's Retry-After is honoured, but one task never waits longer than this per retry.
MAX_RETRY_AFTER_S = 15 * 60


async def _user_ids() -> list[uuid.UUID]:
    async with session_scope() as session:
        return await history_service.importable_user_ids(session)


@app.task(
    base=TuneWaveTask,
    name="workers.history_import.import_all_spotify_history",
    soft_time_limit=60,
    time_limit=90,
)
def import_all_spotify_history() -> int:
    """Queue one import per user with an active Spotify link; returns how many."""
    user_ids = run_async(_user_ids)
    for user_id in user_ids:
        import_spotify_history.delay(str(user_id))
    logger.info("queued %d Spotify history imports", len(user_ids))
    return len(user_ids)


@app.task(
    base=TuneWaveTask,
    name="workers.history_import.import_spotify_history",
    bind=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT_S,
    time_limit=IMPORT_TIME_LIMIT_S,
    # Redelivered and repeated imports of one user are harmless; a shorter expiry than the
    # schedule keeps a backlog from piling up behind a long outage.
    expires=14 * 60,
)
def import_spotify_history(self: Any, user_id: str) -> dict[str, Any]:
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        logger.error("import_spotify_history: %r is not a user id", user_id)
        return {"status": "bad_id"}
    settings = get_settings()
    if not settings.spotify_enabled:
        return {"status": "spotify_disabled"}
    task_id = self.request.id

    async def leased() -> LeasedOutcome:
        # One import per user at a time: a second delivery (the visibility timeout passed
        # while this one ran) answers "busy"; one after it completed, "duplicate".
        return await run_leased(
            get_redis(),
            f"history-import:{parsed}",
            task_id,
            settings.task_lease_ttl_s,
            lambda: history_service.import_spotify_history(settings, parsed),
        )

    try:
        outcome = run_async(leased)
    except SpotifyRateLimited as exc:
        countdown = min(max(exc.retry_after_s or 1, 1), MAX_RETRY_AFTER_S)
        logger.info("Spotify rate-limits the import of %s; again in %ss", user_id, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except SpotifyUnavailable as exc:
        # Capped exponential backoff with jitter, like every transient failure.
        countdown = get_exponential_backoff_interval(
            factor=self.retry_backoff,
            retries=self.request.retries,
            maximum=self.retry_backoff_max,
            full_jitter=True,
        )
        raise self.retry(exc=exc, countdown=countdown) from exc
    if outcome.status != "ran":
        logger.info("Spotify history of %s: %s", user_id, outcome.status)
        return {"status": outcome.status}
    logger.info("Spotify history of %s: %s", user_id, outcome.value)
    return asdict(outcome.value)
