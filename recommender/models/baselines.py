"""Non-personalised and neighbourhood models: popularity and item-kNN."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.data import Interactions
from recommender.models.base import Recommender
from recommender.weighting import FittedWeighting, Weighting


class PopularityRecommender(Recommender):
    """Everybody gets the items most listeners play (number of distinct listeners)."""

    name = "popularity"

    def __init__(self) -> None:
        super().__init__()
        self.item_popularity = np.zeros(0, dtype=np.float32)

    def get_params(self) -> dict[str, Any]:
        return {}

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        listeners = np.diff(sp.csc_matrix(train.matrix).indptr).astype(np.float32)
        self.item_popularity = np.log1p(listeners)

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        return np.tile(self.item_popularity, (user_items.shape[0], 1))

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_popularity": self.item_popularity}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_popularity = state["item_popularity"]


class ItemKNNRecommender(Recommender):
    """Item-based k-nearest neighbours on cosine similarity of item columns.

    A user's score for item j is the sum, over the items i they played (weighted), of
    ``sim(i, j)`` where only each item's ``neighbours`` most similar items are kept. Works for
    any user from their rows alone, so it needs no fold-in.
    """

    name = "itemknn"

    def __init__(self, neighbours: int = 20, weighting: Weighting = "log") -> None:
        super().__init__()
        self.neighbours = neighbours
        self.weighting: Weighting = weighting
        self.weights = FittedWeighting(weighting)
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)

    def get_params(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours, "weighting": self.weighting}

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        weighted = self.weights.fit(train.matrix).transform(train.matrix)
        item_users = sp.csr_matrix(normalize(weighted.T.tocsr()), dtype=np.float32)
        similarity = sp.csr_matrix(item_users @ item_users.T)
        similarity.setdiag(0)
        similarity.eliminate_zeros()
        self.similarity = keep_top_k_per_row(similarity, self.neighbours)

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        weighted = self.weights.transform(sp.csr_matrix(user_items))
        return np.asarray((weighted @ self.similarity).todense(), dtype=np.float32)

    def similar_items(self, item_indices: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        rows = sp.csr_matrix(self.similarity[np.asarray(item_indices, dtype=np.int64)])
        dense = np.asarray(rows.todense(), dtype=np.float32)
        dense[dense == 0] = -np.inf
        dense[np.arange(len(dense)), item_indices] = -np.inf
        return _top_k_dense(dense, k)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "data": self.similarity.data,
            "indices": self.similarity.indices,
            "indptr": self.similarity.indptr,
            "shape": np.asarray(self.similarity.shape),
            **self.weights.state(),
        }

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights.load_state(state)
        self.similarity = sp.csr_matrix(
            (state["data"], state["indices"], state["indptr"]), shape=tuple(state["shape"])
        )


def keep_top_k_per_row(matrix: sp.spmatrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries (ties: lower column first), the rest dropped."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    # Sort entries by row, then by value descending; an entry's rank is its offset in its row.
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    keep = rank < k
    return sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])),
        shape=matrix.shape,
        dtype=np.float32,
    )


def _top_k_dense(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k_eff = min(k, scores.shape[1])
    out_idx = np.full((scores.shape[0], k), -1, dtype=np.int64)
    out_score = np.full((scores.shape[0], k), -np.inf, dtype=np.float32)
    top = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-top_scores, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    top_scores = np.take_along_axis(top_scores, order, axis=1)
    top[~np.isfinite(top_scores)] = -1
    out_idx[:, :k_eff] = top
    out_score[:, :k_eff] = top_scores
    return out_idx, out_score
