"""A beat scheduler that only schedules while it holds a lock in Redis.

Two beats sending the same periodic tasks would double every job. The leader renews
``tunewave:beat:leader`` (a token with a TTL) on every tick; any other beat finds the key
taken and sleeps as a standby, taking over within ``LOCK_TTL_S`` once the leader is gone.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import redis
from celery.beat import PersistentScheduler

from api.core.redis import redis_ssl_options

logger = logging.getLogger(__name__)

LOCK_KEY = "tunewave:beat:leader"
LOCK_TTL_S = 30.0
STANDBY_POLL_S = LOCK_TTL_S / 3

# Extend the lock only if we still own it; otherwise a slow leader could extend a lock a
# standby already took over.
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class SingleBeatScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        schedule_filename = kwargs.get("schedule_filename")
        if schedule_filename:
            # The default lives in settings.data_dir, which a fresh checkout does not have.
            Path(schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        self.lock_token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.is_leader = False
        self._lock_client: redis.Redis | None = None
        super().__init__(*args, **kwargs)

    @property
    def lock_client(self) -> redis.Redis:
        if self._lock_client is None:
            url = self.app.conf.broker_url
            self._lock_client = redis.Redis.from_url(
                url, socket_timeout=5, socket_connect_timeout=5, **(redis_ssl_options(url) or {})
            )
        return self._lock_client

    def hold_leadership(self) -> bool:
        ttl_ms = int(LOCK_TTL_S * 1000)
        try:
            held = bool(self.lock_client.eval(_EXTEND, 1, LOCK_KEY, self.lock_token, ttl_ms))
            if not held:
                held = bool(self.lock_client.set(LOCK_KEY, self.lock_token, nx=True, px=ttl_ms))
        except redis.RedisError as exc:
            # Without Redis no task can be sent anyway; step down and try again later.
            logger.warning("beat lock unavailable: %r", exc)
            held = False
        if held != self.is_leader:
            logger.info("beat %s", "is the leader" if held else "is a standby")
        self.is_leader = held
        return held

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.hold_leadership():
            return STANDBY_POLL_S
        # Wake up often enough to renew the lock before it expires.
        return min(float(super().tick(*args, **kwargs)), LOCK_TTL_S / 3)

    def close(self) -> None:
        super().close()
        if self._lock_client is None:
            return
        if self.is_leader:
            try:
                self._lock_client.eval(_RELEASE, 1, LOCK_KEY, self.lock_token)
            except redis.RedisError as exc:
                logger.warning("could not release the beat lock: %r", exc)
            self.is_leader = False
        self._lock_client.close()
