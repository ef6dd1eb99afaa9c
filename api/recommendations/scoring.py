"""The arrays live room scoring needs, as one ``.npz`` blob per published version.

The training pipeline writes the blob (item and user vectors with their ids, the items'
artist names for reasons, and the genre space); each API process loads it once per version
into a ``recommender.RoomScorer`` and scores the live rooms against the caller on demand.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from redis.asyncio import Redis

from api.recommendations import store

if TYPE_CHECKING:
    # The recommender pulls in pandas, scikit-learn and implicit: API processes import it
    # only once a model is published and a room recommendation is asked for.
    from recommender import GenreSpace, RoomIndex, RoomScorer

SCORING_BLOB = "scoring"
_GENRES_PREFIX = "genres_"
_CACHE_SIZE = 2


@dataclass(frozen=True)
class LoadedScorer:
    scorer: RoomScorer
    # user id -> row of ``scorer.user_vectors``
    user_rows: dict[str, int]
    # The live rooms' index for the latest rooms snapshot (rebuilt when the snapshot changes).
    _index: dict[str, RoomIndex] = field(default_factory=dict)

    def index_for(self, snapshot_id: str, build: Callable[[], RoomIndex]) -> RoomIndex:
        index = self._index.get(snapshot_id)
        if index is None:
            index = build()
            self._index.clear()
            self._index[snapshot_id] = index
        return index

    def user_vector(self, user_id: str) -> np.ndarray | None:
        row = self.user_rows.get(user_id)
        vectors = self.scorer.user_vectors
        return None if row is None or vectors is None else vectors[row]


_scorers: OrderedDict[str, LoadedScorer | None] = OrderedDict()


def scoring_blob(
    item_ids: np.ndarray,
    user_ids: np.ndarray,
    item_vectors: np.ndarray | None,
    user_vectors: np.ndarray | None,
    genres: GenreSpace,
    item_names: list[str],
) -> bytes:
    arrays: dict[str, Any] = {
        "item_ids": np.asarray(item_ids).astype(str),
        "user_ids": np.asarray(user_ids).astype(str),
        "item_names": np.asarray(item_names, dtype=str),
        **{f"{_GENRES_PREFIX}{k}": v for k, v in genres.state().items()},
    }
    if item_vectors is not None:
        arrays["item_vectors"] = np.asarray(item_vectors, dtype=np.float32)
    if user_vectors is not None:
        arrays["user_vectors"] = np.asarray(user_vectors, dtype=np.float32)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def scorer_from_blob(data: bytes) -> LoadedScorer:
    from recommender import GenreSpace, RoomScorer

    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    genres = GenreSpace.from_state(
        {
            name.removeprefix(_GENRES_PREFIX): value
            for name, value in arrays.items()
            if name.startswith(_GENRES_PREFIX)
        }
    )
    item_ids = arrays["item_ids"].astype(object)
    user_ids = arrays["user_ids"].astype(object)
    scorer = RoomScorer(
        item_ids,
        genres,
        item_vectors=arrays.get("item_vectors"),
        user_ids=user_ids,
        user_vectors=arrays.get("user_vectors"),
        item_names=dict(zip(item_ids, arrays["item_names"].astype(object), strict=True)),
    )
    return LoadedScorer(scorer, {str(user_id): row for row, user_id in enumerate(user_ids)})


async def room_scorer(redis: Redis, version: str) -> LoadedScorer | None:
    """The version's scorer, loaded once per process (None when it published no blob)."""
    if version in _scorers:
        _scorers.move_to_end(version)
        return _scorers[version]
    data = await store.blob(redis, version, SCORING_BLOB)
    scorer = scorer_from_blob(data) if data is not None else None
    _scorers[version] = scorer
    while len(_scorers) > _CACHE_SIZE:
        _scorers.popitem(last=False)
    return scorer


def clear_cache() -> None:
    _scorers.clear()
