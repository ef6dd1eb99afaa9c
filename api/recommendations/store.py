"""Published recommendations in Redis, under a model version, switched atomically.

Layout (``{v}`` is a version such as ``20261127T031500-als``):
- ``tunewave:reco:live`` -> the live version. Publishing writes every key of a new version
  first and then sets this one key, so a reader sees the whole old version or the whole new
  one, never a mix. The previous version's keys expire after ``OLD_VERSION_GRACE_S``.
- ``tunewave:reco:{v}:tracks`` hash: user id -> JSON list of ``{"track", "score", "reason"}``
  (``track`` is the wire ``TrackBase``, so serving needs no database).
- ``tunewave:reco:{v}:users`` hash: user id -> JSON list of ``{"user_id", "score", "reason",
  "shared_genres"}``.
- ``tunewave:reco:{v}:meta`` string: JSON (model, metrics, counts, trained_at).
- ``tunewave:reco:{v}:blob:scoring`` string: base64 of an ``.npz`` with the item and user
  vectors, their ids and the genre space (``recommender.RoomScorer``'s inputs).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

LIVE_KEY = "tunewave:reco:live"
PARTS = ("tracks", "users")
OLD_VERSION_GRACE_S = 3600
_WRITE_BATCH = 500


def version_key(version: str, part: str) -> str:
    return f"tunewave:reco:{version}:{part}"


async def live_version(redis: Redis) -> str | None:
    raw = await redis.get(LIVE_KEY)
    return None if raw is None else str(raw)


async def user_entry(redis: Redis, version: str, part: str, user_id: str) -> Any | None:
    raw = await redis.hget(version_key(version, part), user_id)  # type: ignore[misc]
    return None if raw is None else json.loads(raw)


async def entries(redis: Redis, version: str, part: str, ids: list[str]) -> list[Any | None]:
    if not ids:
        return []
    raws = await redis.hmget(version_key(version, part), ids)  # type: ignore[misc]
    return [None if raw is None else json.loads(raw) for raw in raws]


async def blob(redis: Redis, version: str, name: str) -> bytes | None:
    raw = await redis.get(version_key(version, f"blob:{name}"))
    return None if raw is None else base64.b64decode(raw)


async def meta(redis: Redis, version: str) -> dict[str, Any] | None:
    raw = await redis.get(version_key(version, "meta"))
    return None if raw is None else json.loads(raw)


async def publish(
    redis: Redis,
    version: str,
    parts: Mapping[str, Mapping[str, Any]],
    version_meta: Mapping[str, Any],
    *,
    blobs: Mapping[str, bytes] | None = None,
) -> str | None:
    """Write a version's parts, then make it live; returns the version it replaced."""
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}")
    for part, mapping in parts.items():
        key = version_key(version, part)
        await redis.delete(key)
        items = list(mapping.items())
        for start in range(0, len(items), _WRITE_BATCH):
            batch = {
                k: json.dumps(v, separators=(",", ":"))
                for k, v in items[start : start + _WRITE_BATCH]
            }
            await redis.hset(key, mapping=batch)  # type: ignore[arg-type,misc]
    blob_names = sorted(blobs or {})
    for name, data in (blobs or {}).items():
        await redis.set(version_key(version, f"blob:{name}"), base64.b64encode(data).decode())
    await redis.set(
        version_key(version, "meta"),
        json.dumps({**version_meta, "blobs": blob_names}, default=str),
    )
    # The switch: one SET. GETSET tells us which version to retire.
    previous = await redis.getset(LIVE_KEY, version)
    previous_version = None if previous is None else str(previous)
    if previous_version and previous_version != version:
        old_meta = await meta(redis, previous_version) or {}
        old_blobs = [f"blob:{name}" for name in old_meta.get("blobs", [])]
        for part in (*PARTS, "meta", *old_blobs):
            await redis.expire(version_key(previous_version, part), OLD_VERSION_GRACE_S)
    return previous_version
