"""The Celery application: broker and result backend are REDIS_URL, settings from api.core.config.

Process commands (the Procfile and compose use exactly these):
    celery -A workers.celery_app worker --loglevel=INFO
    celery -A workers.celery_app beat --loglevel=INFO

Beat must be a single scheduler. Deployments run one beat process, and ``SingleBeatScheduler``
also holds a lock in Redis, so an accidental second beat stays a hot standby instead of
sending every periodic task twice (see workers/beat.py).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import celeryd_init

from api.core.config import get_settings
from api.core.redis import redis_ssl_options

HEARTBEAT_INTERVAL_S = 30.0
HISTORY_IMPORT_INTERVAL_S = 15 * 60.0
GENRE_ENRICHMENT_INTERVAL_S = 60 * 60.0
GENRE_GRAPH_INTERVAL_S = 60 * 60.0


def create_celery_app() -> Celery:
    settings = get_settings()
    redis_url = settings.require_redis_url()
    celery_app = Celery(
        "tunewave",
        broker=redis_url,
        backend=redis_url,
        include=[
            "workers.heartbeat",
            "workers.history_import",
            "workers.genre_enrichment",
            "workers.genre_graph",
            "workers.training",
        ],
    )
    ssl_options = redis_ssl_options(redis_url)
    celery_app.conf.update(
        broker_use_ssl=ssl_options,
        redis_backend_use_ssl=ssl_options,
        broker_connection_retry_on_startup=True,
        # Tasks carry ids and plain values only; JSON keeps them readable and pickle out.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A task is acknowledged when it finished, so a worker that dies mid-task (deploy,
        # OOM kill) hands it to another worker. Tasks are idempotent to make that safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Redis redelivers an unacknowledged task after the visibility timeout, checked every
        # celery_restore_interval_s by any live worker: a lost worker's task runs again
        # within about a minute. Long tasks outlast the timeout and are then delivered a
        # second time while they run: their lease (api/core/lease.py) makes that delivery
        # answer "busy" (or "duplicate" once the first completed) instead of a parallel run.
        broker_transport_options={
            "visibility_timeout": settings.celery_visibility_timeout_s,
            "unacked_restore_interval": settings.celery_restore_interval_s,
            "unacked_restore_throttle": 1,
        },
        task_soft_time_limit=25 * 60,
        task_time_limit=30 * 60,
        # Tasks report through the database and Redis keys, not through results; a task that
        # needs its result stored sets ignore_result=False.
        task_ignore_result=True,
        result_expires=24 * 3600,
        timezone="UTC",
        enable_utc=True,
        beat_scheduler="workers.beat:SingleBeatScheduler",
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "heartbeat": {
                "task": "workers.heartbeat.heartbeat",
                "schedule": HEARTBEAT_INTERVAL_S,
                # A heartbeat nobody ran in time is worthless; do not let them pile up.
                "options": {"expires": HEARTBEAT_INTERVAL_S},
            },
            "history-import": {
                "task": "workers.history_import.import_all_spotify_history",
                "schedule": HISTORY_IMPORT_INTERVAL_S,
                "options": {"expires": HISTORY_IMPORT_INTERVAL_S},
            },
            "genre-enrichment": {
                "task": "workers.genre_enrichment.enrich_genres",
                "schedule": GENRE_ENRICHMENT_INTERVAL_S,
                "options": {"expires": GENRE_ENRICHMENT_INTERVAL_S},
            },
            # Also queued after every training run (workers/training.py).
            "genre-graph": {
                "task": "workers.genre_graph.build_genre_graph",
                "schedule": GENRE_GRAPH_INTERVAL_S,
                "kwargs": {"reason": "hourly"},
                "options": {"expires": GENRE_GRAPH_INTERVAL_S},
            },
            # Nightly, when rooms are quiet; `tunewave train` runs it on demand.
            "training": {
                "task": "workers.training.train_recommender",
                "schedule": crontab(hour=3, minute=30),
                "kwargs": {"reason": "nightly"},
                "options": {"expires": 6 * 3600},
            },
        },
    )
    return celery_app


def refuse_old_redis(**_kwargs: Any) -> None:
    """A worker on a too-old Redis would fail its tasks one by one: refuse to start instead.
    A server that does not answer yet is left to Celery's own connection retries."""
    from redis.exceptions import RedisError

    from api.core.redis_version import RedisVersionError, check_redis_version_sync

    try:
        check_redis_version_sync(get_settings().require_redis_url())
    except RedisVersionError as exc:
        logging.getLogger(__name__).critical("%s", exc)
        raise SystemExit(f"worker not started: {exc}") from exc
    except RedisError:
        pass


app = create_celery_app()
# celeryd_init: before the worker imports its task modules (seconds), so it refuses at once.
celeryd_init.connect(refuse_old_redis, weak=False)
