"""What every task shares: the retry policy and a way into the async domain code.

Tasks take ids (never ORM objects), reload what they need and are idempotent, because
``acks_late`` means a task can run again after a worker dies. Only transient failures are
retried, with capped exponential backoff and jitter; anything else (bad data, a 4xx from a
provider) fails once and is logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
import redis.exceptions
import sqlalchemy.exc
from celery import Task

from api.core.db import dispose_engine
from api.core.redis import close_redis

T = TypeVar("T")


class TransientError(Exception):
    """Raise from a task for a failure worth retrying that no library error names."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    httpx.TransportError,
)


class TuneWaveTask(Task):
    """Base class for our tasks: ``@app.task(base=TuneWaveTask)``."""

    abstract = True
    autoretry_for = TRANSIENT_ERRORS
    max_retries = 6
    retry_backoff = 2  # seconds before the first retry, doubling each time
    retry_backoff_max = 300
    retry_jitter = True


def run_async(work: Callable[[], Awaitable[T]]) -> T:
    """Run async services from a task, in a fresh event loop.

    The engine and the Redis client are cached per process and their pooled connections
    belong to the loop that opened them, so both are closed before this loop ends; the next
    task opens new ones in its own loop.
    """

    async def main() -> T:
        try:
            return await work()
        finally:
            await close_redis()
            await dispose_engine()

    return asyncio.run(main())
