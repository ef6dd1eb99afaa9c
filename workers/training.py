"""Training: nightly (beat), on the first start with demo data, and on demand
(``tunewave train --queue``). See api/recommendations/training.py for the pipeline.

One training at a time: the training service holds a lease (``tunewave:lease:training``, see
api/core/lease.py) renewed while the training runs, so ``tunewave train`` and the worker never
train at once. A second run while one is going ends with status "busy"; a
redelivery after the worker running it died takes the lease over and trains (never "busy"
because of a dead run); a second delivery of a training that already completed ends with
status "duplicate". Re-running is harmless: it trains a new version, published only if it is
not worse than the live one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from api.core.config import get_settings
from api.core.redis import get_redis
from api.recommendations.training import TrainingResult, training_service
from workers.base import TuneWaveTask, run_async
from workers.celery_app import app
from workers.genre_graph import build_genre_graph

logger = logging.getLogger(__name__)

SOFT_TIME_LIMIT_S = 25 * 60
TIME_LIMIT_S = 30 * 60
# Runs that read the plays (a rejected candidate too: the plays are new all the same).
TRAINED = frozenset({"published", "rejected"})


async def train_once(reason: str, task_id: str | None = None) -> TrainingResult:
    logger.info("training (%s)", reason)
    return await training_service.train_and_publish(get_redis(), get_settings(), task_id=task_id)


@app.task(
    base=TuneWaveTask,
    name="workers.training.train_recommender",
    bind=True,
    soft_time_limit=SOFT_TIME_LIMIT_S,
    time_limit=TIME_LIMIT_S,
    max_retries=2,
)
def train_recommender(self: Any, reason: str = "scheduled") -> dict[str, Any]:
    task_id = self.request.id
    result = run_async(lambda: train_once(reason, task_id))
    logger.info("training %s: %s %s %s", reason, result.status, result.version, result.metrics)
    if result.status in TRAINED:
        # The plays a model was trained on also make the genre graph: rebuild it now rather
        # than at the next hourly run.
        build_genre_graph.delay(reason=f"after training {result.version}")
    return asdict(result)
