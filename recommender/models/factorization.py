"""Matrix factorisation with implicit: ALS (confidence-weighted) and BPR (pairwise ranking)."""

from __future__ import annotations

import os
from abc import abstractmethod
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.models.base import Recommender, fold_in_rows
from recommender.weighting import FittedWeighting, Weighting


def _threads(num_threads: int) -> int:
    """0 means: the cores this process may use (implicit's own 0 means every core)."""
    if num_threads > 0:
        return num_threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _FactorModel(Recommender):
    """Shared by ALS and BPR: scores are dot products of user and item factors."""

    def __init__(self) -> None:
        super().__init__()
        self.user_factors = np.zeros((0, 0), dtype=np.float32)
        self.item_factors = np.zeros((0, 0), dtype=np.float32)

    @abstractmethod
    def _fold_in(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Factors for users the model has not seen, from their interaction rows."""

    def user_vectors(
        self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None
    ) -> np.ndarray:
        user_items = sp.csr_matrix(user_items)
        rows = fold_in_rows(user_rows, user_items.shape[0], self.user_factors.shape[0])
        vectors = np.empty((len(rows), self.item_factors.shape[1]), dtype=np.float32)
        known = rows >= 0
        vectors[known] = self.user_factors[rows[known]]
        if (~known).any():
            vectors[~known] = self._fold_in(user_items[~known])
        return vectors

    def item_vectors(self) -> np.ndarray:
        return self.item_factors

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        # In float64, then rounded to float32: BLAS sums a batch (gemm) and a single user
        # (gemv) in different orders, and float32 round-off would reorder near-ties.
        vectors = self.user_vectors(user_items, user_rows).astype(np.float64)
        return (vectors @ self.item_factors.T.astype(np.float64)).astype(np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors = state["user_factors"]
        self.item_factors = state["item_factors"]


class ALSRecommender(_FactorModel):
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) from implicit, on weighted plays.

    Confidence is ``1 + alpha * w`` with ``w`` the play count under ``weighting`` (BM25 by
    default: raw Last.fm counts run to 350,000 and would swamp everything else). New users are
    folded in with the same closed-form least-squares step ALS itself alternates.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        weighting: Weighting = "bm25",
        random_state: int = 42,
        num_threads: int = 0,
    ) -> None:
        super().__init__()
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.weighting: Weighting = weighting
        self.weights = FittedWeighting(weighting)
        self.random_state = random_state
        self.num_threads = num_threads

    def get_params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "weighting": self.weighting,
            "random_state": self.random_state,
            "num_threads": self.num_threads,
        }

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=_threads(self.num_threads),
        )
        model.fit(self.weights.fit(train.matrix).transform(train.matrix), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def _fold_in(self, user_items: sp.csr_matrix) -> np.ndarray:
        # x_u = (YᵀY + Yᵀ(C_u - I)Y + λI)⁻¹ Yᵀ C_u p_u, the ALS user step (implicit scales the
        # confidence as 1 + alpha·w and uses the regularisation unscaled).
        weighted = self.weights.transform(sp.csr_matrix(user_items))
        item_factors = self.item_factors.astype(np.float64)
        gram = item_factors.T @ item_factors
        eye = self.regularization * np.eye(gram.shape[0])
        out = np.zeros((weighted.shape[0], gram.shape[0]), dtype=np.float32)
        for u in range(weighted.shape[0]):
            start, stop = weighted.indptr[u], weighted.indptr[u + 1]
            cols = weighted.indices[start:stop]
            if not len(cols):
                continue
            confidence = self.alpha * weighted.data[start:stop].astype(np.float64)
            y = item_factors[cols]
            a = gram + (y.T * confidence) @ y + eye
            b = y.T @ (1.0 + confidence)
            out[u] = np.linalg.solve(a, b)
        return out

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), **self.weights.state()}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        super()._load_state(state)
        self.weights.load_state(state)


class BPRRecommender(_FactorModel):
    """Bayesian Personalised Ranking (Rendle et al. 2009) from implicit.

    BPR learns from which items a user played, not how often, so weighting does not apply.
    implicit appends an item-bias column to the item factors (and a constant 1 to the user
    factors); the stored factors keep it, so dot products include the bias. A new user is
    folded in as the mean of the factors of the items they played (there is no closed form).
    """

    name = "bpr"

    def __init__(
        self,
        factors: int = 100,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        random_state: int = 42,
        num_threads: int = 0,
    ) -> None:
        super().__init__()
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def get_params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "learning_rate": self.learning_rate,
            "regularization": self.regularization,
            "iterations": self.iterations,
            "random_state": self.random_state,
            "num_threads": self.num_threads,
        }

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        model = BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=_threads(self.num_threads),
        )
        binary = sp.csr_matrix(train.matrix, dtype=np.float32, copy=True)
        binary.data[:] = 1.0
        model.fit(binary, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def _fold_in(self, user_items: sp.csr_matrix) -> np.ndarray:
        binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        binary.data[:] = 1.0
        counts = np.maximum(np.asarray(binary.sum(axis=1)).ravel(), 1.0)
        vectors = np.asarray(binary @ self.item_factors) / counts[:, None]
        # implicit's user factors end with a constant 1 that multiplies the item bias.
        vectors[:, -1] = 1.0
        return vectors.astype(np.float32)
