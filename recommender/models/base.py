"""The one interface every recommender model implements."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Interactions

FORMAT_VERSION = 1


def _ids_for_saving(ids: np.ndarray) -> np.ndarray:
    """Ids as a pickle-free array: numbers stay numbers, anything else becomes text."""
    if ids.dtype.kind in "iuf":
        return ids
    return ids.astype(str)


class Recommender(ABC):
    """Fit on a users x items matrix, then score or rank the whole catalogue for users.

    Users are given to ``score``/``recommend`` as their interaction rows over the trained
    catalogue (``user_items``, one CSR row per user) plus, optionally, their row index in the
    training matrix (``user_rows``; -1 for a user the model has not seen). Models with learned
    user factors use the index; the others, and every model for a user with index -1, work
    from the rows alone ("fold-in"), so new users are served without retraining.

    Scores are comparable within one user's row only. ``recommend`` never returns an item
    the user already has in ``user_items`` unless ``exclude_seen=False``.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self.user_ids: np.ndarray = np.array([])
        self.item_ids: np.ndarray = np.array([])
        self.fit_seconds: float = 0.0

    # --- what a model implements -----------------------------------------------------------

    @abstractmethod
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, JSON-serialisable: ``type(m)(**m.get_params())`` is unfitted m."""

    @abstractmethod
    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        """Learn from ``train`` (ids already stored on self)."""

    @abstractmethod
    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        """Dense ``(n_users, n_items)`` float32 scores, higher = better, seen items included."""

    @abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """The fitted arrays to save."""

    @abstractmethod
    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what ``_state`` returned."""

    # --- optional capabilities -------------------------------------------------------------

    def user_vectors(
        self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None
    ) -> np.ndarray | None:
        """Taste vectors of users in the space of ``item_vectors()``; None if the model has none.

        ``user_vectors(...) @ item_vectors().T`` equals ``score(...)`` for factor models, so the
        API can score anything built from item vectors (rooms) without the model.
        """
        return None

    def item_vectors(self) -> np.ndarray | None:
        """``(n_items, dim)`` item vectors, or None if the model has none."""
        return None

    # --- shared behaviour ------------------------------------------------------------------

    def fit(self, train: Interactions, item_tags: pd.DataFrame | None = None) -> Self:
        """Train on ``train`` (``item_tags``: ``item_id, tag, weight`` rows, for content models)."""
        import time

        started = time.perf_counter()
        self.user_ids = train.user_ids
        self.item_ids = train.item_ids
        self._fit(train, item_tags)
        self.fit_seconds = time.perf_counter() - started
        return self

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def recommend(
        self,
        user_items: sp.csr_matrix,
        user_rows: np.ndarray | None = None,
        k: int = 10,
        exclude_seen: bool = True,
        exclude_items: np.ndarray | None = None,
        batch_size: int = 512,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` item indices and their scores per user, best first.

        Returns two ``(n_users, k)`` arrays. When fewer than ``k`` items are left after the
        exclusions, the tail is padded with index -1 and score ``-inf``.
        """
        user_items = sp.csr_matrix(user_items)
        n_users = user_items.shape[0]
        k_eff = min(k, self.n_items)
        out_idx = np.full((n_users, k), -1, dtype=np.int64)
        out_score = np.full((n_users, k), -np.inf, dtype=np.float32)
        for start in range(0, n_users, batch_size):
            stop = min(start + batch_size, n_users)
            rows = user_items[start:stop]
            scores = self.score(rows, None if user_rows is None else user_rows[start:stop])
            scores = np.array(scores, dtype=np.float32, copy=True)
            if exclude_seen:
                coo = rows.tocoo()
                scores[coo.row, coo.col] = -np.inf
            if exclude_items is not None and len(exclude_items):
                scores[:, exclude_items] = -np.inf
            top = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            top_scores = np.take_along_axis(top_scores, order, axis=1)
            top[~np.isfinite(top_scores)] = -1
            out_idx[start:stop, :k_eff] = top
            out_score[start:stop, :k_eff] = top_scores
        return out_idx, out_score

    def similar_items(self, item_indices: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items most like each given item (itself excluded), by the model's own notion.

        The default scores a one-item user: "people who play this also play".
        """
        item_indices = np.asarray(item_indices, dtype=np.int64)
        rows = sp.csr_matrix(
            (
                np.ones(len(item_indices), dtype=np.float32),
                (np.arange(len(item_indices)), item_indices),
            ),
            shape=(len(item_indices), self.n_items),
        )
        return self.recommend(rows, None, k=k, exclude_seen=True)

    def save(self, path: str | Path) -> None:
        """Write the fitted model as one ``.npz`` (no pickle): parameters, ids and arrays."""
        header = {"model": self.name, "params": self.get_params(), "format": FORMAT_VERSION}
        arrays = {f"state__{key}": value for key, value in self._state().items()}
        arrays["header"] = np.array(json.dumps(header))
        arrays["user_ids"] = _ids_for_saving(self.user_ids)
        arrays["item_ids"] = _ids_for_saving(self.item_ids)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy stubs: allow_pickle

    @classmethod
    def _from_arrays(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Recommender:
        model = cls(**header["params"])
        model.user_ids = arrays["user_ids"]
        model.item_ids = arrays["item_ids"]
        model._load_state(
            {k.removeprefix("state__"): v for k, v in arrays.items() if k.startswith("state__")}
        )
        return model

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def read_npz(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays of a saved model."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(str(arrays.pop("header")))
    if header.get("format") != FORMAT_VERSION:
        raise ValueError(f"unsupported model file format {header.get('format')!r}")
    return header, arrays


def standardise_rows(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores (float64), so components on different scales can be added."""
    scores = np.asarray(scores, dtype=np.float64)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 0, std, 1.0)


def fold_in_rows(user_rows: np.ndarray | None, n: int, n_trained_users: int) -> np.ndarray:
    """Normalise ``user_rows``: an array of length ``n`` with -1 for users to fold in."""
    if user_rows is None:
        return np.full(n, -1, dtype=np.int64)
    rows = np.asarray(user_rows, dtype=np.int64)
    if len(rows) != n:
        raise ValueError(f"user_rows has {len(rows)} entries for {n} users")
    return np.where((rows >= 0) & (rows < n_trained_users), rows, -1)
