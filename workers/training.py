"""Training: nightly (beat), on the first start with demo data, and on demand
(``tunewave train --queue``). See api/recommendations/training.py for the pipeline.

One training at a time: a Redis lock (``tunewave:reco:training-lock``) makes a second run
that starts while one is going end at once with status "busy". Re-running is harmless: it
trains a new version, published only if it is not worse than the live one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from typing import Any

from api.config import get_settings
from api.recommendations.training import TrainingResult, training_service
from api.redis import get_redis
from workers.base import TuneWaveTask, run_async
from workers.celery_app import app

logger = logging.getLogger(__name__)

LOCK_KEY = "tunewave:reco:training-lock"
SOFT_TIME_LIMIT_S = 25 * 60
TIME_LIMIT_S = 30 * 60

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


async def train_once(reason: str) -> TrainingResult:
    redis = get_redis()
    token = uuid.uuid4().hex
    if not await redis.set(LOCK_KEY, token, nx=True, ex=TIME_LIMIT_S):
        return TrainingResult(status="busy", detail="another training is running")
    try:
        logger.info("training (%s)", reason)
        return await training_service.train_and_publish(redis, get_settings())
    finally:
        await redis.eval(_RELEASE, 1, LOCK_KEY, token)  # type: ignore[misc]


@app.task(
    base=TuneWaveTask,
    name="workers.training.train_recommender",
    soft_time_limit=SOFT_TIME_LIMIT_S,
    time_limit=TIME_LIMIT_S,
    max_retries=2,
)
def train_recommender(reason: str = "scheduled") -> dict[str, Any]:
    result = run_async(lambda: train_once(reason))
    logger.info("training %s: %s %s %s", reason, result.status, result.version, result.metrics)
    return asdict(result)
