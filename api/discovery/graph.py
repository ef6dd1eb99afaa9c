"""The genre co-listening graph in Redis: built by workers.genre_graph, read by the API.

``tunewave:genres:graph`` holds base64 of an ``.npz`` (``recommender.explore.GenreGraph``'s
arrays, no pickle) and ``tunewave:genres:graph:meta`` a JSON ``{"id", "built_at",
"genres", "listeners"}``; both are written in one transaction, so a reader never pairs one
graph's meta with another's arrays. Each API process loads the arrays once per ``id``.
Both keys expire after ``GRAPH_TTL_S``: a graph nobody rebuilt for that long (beat down) is
dropped, and the API builds one from PostgreSQL on demand instead of serving a stale one.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from redis.asyncio import Redis
from redis.exceptions import RedisError

from recommender.explore import GenreGraph

GRAPH_KEY = "tunewave:genres:graph"
GRAPH_META_KEY = "tunewave:genres:graph:meta"
GRAPH_TTL_S = 3 * 3600


@dataclass(frozen=True, slots=True)
class LoadedGraph:
    id: str
    built_at: datetime
    graph: GenreGraph


# This process's copy of the published graph, by id.
_loaded: dict[str, LoadedGraph] = {}


def encode(graph: GenreGraph) -> str:
    arrays: dict[str, Any] = graph.state()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return base64.b64encode(buffer.getvalue()).decode()


def decode(raw: str | bytes) -> GenreGraph:
    with np.load(io.BytesIO(base64.b64decode(raw)), allow_pickle=False) as arrays:
        return GenreGraph.from_state({name: arrays[name] for name in arrays.files})


async def publish(redis: Redis, graph: GenreGraph, built_at: datetime | None = None) -> str:
    """Store ``graph`` as the live one; returns its id."""
    graph_id = uuid.uuid4().hex
    meta = {
        "id": graph_id,
        "built_at": (built_at or datetime.now(UTC)).isoformat(),
        "genres": len(graph.vocabulary),
        "listeners": int(graph.popularity.max()) if graph.popularity.size else 0,
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(GRAPH_KEY, encode(graph), ex=GRAPH_TTL_S)
        pipe.set(GRAPH_META_KEY, json.dumps(meta), ex=GRAPH_TTL_S)
        await pipe.execute()
    return graph_id


async def load(redis: Redis) -> LoadedGraph | None:
    """The published graph, or None when there is none (or Redis cannot be reached)."""
    try:
        raw_meta = await redis.get(GRAPH_META_KEY)
        if raw_meta is None:
            return None
        meta = json.loads(raw_meta)
        cached = _loaded.get("live")
        if cached is not None and cached.id == meta["id"]:
            return cached
        raw = await redis.get(GRAPH_KEY)
    except RedisError:
        return None
    if raw is None:
        return None
    loaded = LoadedGraph(meta["id"], datetime.fromisoformat(meta["built_at"]), decode(raw))
    _loaded["live"] = loaded
    return loaded


def clear_cache() -> None:
    _loaded.clear()
