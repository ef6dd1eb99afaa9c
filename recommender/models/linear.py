"""Item-to-item models with closed or random-walk forms: EASE^R, EDLAE and RP3beta.

Both learn an items x items weight matrix ``B`` and score a user as ``weighted row @ B``.
``B`` is kept sparse (each item keeps its ``neighbours`` strongest outgoing weights), so a
catalogue of hundreds of thousands of items is served from memory, and any user (a known
one, a brand-new one, a room's queue) is scored from their rows alone.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from recommender.data import Interactions
from recommender.models.base import Recommender, standardise_rows
from recommender.models.baselines import _top_k_dense, keep_top_k_per_row
from recommender.weighting import FittedWeighting, Weighting

Solver = Literal["auto", "primal", "dual"]
_BLOCK = 1024


def _top_k_rows_dense(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and value of the ``k`` largest entries of each row of a dense block."""
    n_rows, n_cols = block.shape
    k = min(k, n_cols)
    cols = np.argpartition(-block, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(block, cols, axis=1)
    rows = np.repeat(np.arange(n_rows), k)
    return rows, cols.ravel(), values.ravel()


class _ItemItemModel(Recommender):
    """Scores are ``weighting(user_items) @ B`` with a sparse items x items ``B``."""

    def __init__(self, weighting: Weighting) -> None:
        super().__init__()
        self.weighting: Weighting = weighting
        self.weights = FittedWeighting(weighting)
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)

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


class EASERecommender(_ItemItemModel):
    """EASE^R (Steck 2019): ``B = argmin ||X - XB||² + λ||B||²`` with ``diag(B) = 0``.

    Closed form: ``P = (XᵀX + λI)⁻¹``, ``B = I - P·diag(1/diag(P))``, scores ``x_u B``.

    - ``solver="primal"`` inverts the items x items Gram matrix (cheap when users ≫ items)
      and keeps ``B`` sparse: each item keeps its ``neighbours`` largest weights (0: all).
    - ``solver="dual"`` never builds an items x items matrix (cheap when items ≫ users, e.g.
      HetRec's 17,632 artists for 1,892 listeners): with the Woodbury identity
      ``P = (I - XᵀKX)/λ``, ``K = (XXᵀ + λI)⁻¹`` (users x users), a user's scores on items
      they have not played are ``(x_u Xᵀ K X)_j / (1 - x_jᵀ K x_j)``; the model stores the
      weighted training matrix ``X``, ``K`` and that per-item scale: memory grows with the
      smaller side squared, and serving a user costs one users-long vector.
    - ``solver="auto"`` picks the smaller side. Both give the same scores (up to the pruning).
    """

    name = "ease"

    def __init__(
        self,
        l2: float = 500.0,
        neighbours: int = 500,
        weighting: Weighting = "binary",
        solver: Solver = "auto",
    ) -> None:
        super().__init__(weighting)
        if l2 <= 0:
            raise ValueError("l2 must be positive")
        if solver not in ("auto", "primal", "dual"):
            raise ValueError(f"unknown solver {solver!r}; expected auto, primal or dual")
        self.l2 = l2
        self.neighbours = neighbours
        self.solver: Solver = solver
        self.dual_x = sp.csr_matrix((0, 0), dtype=np.float32)
        self.dual_kernel = np.zeros((0, 0), dtype=np.float32)
        self.dual_scale = np.zeros(0, dtype=np.float32)

    def get_params(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "neighbours": self.neighbours,
            "weighting": self.weighting,
            "solver": self.solver,
        }

    @property
    def is_dual(self) -> bool:
        return self.dual_kernel.size > 0

    def resolved_solver(self, n_users: int, n_items: int) -> Literal["primal", "dual"]:
        if self.solver != "auto":
            return self.solver
        return "primal" if n_items <= n_users else "dual"

    def _training_matrix(self, train: Interactions) -> sp.csr_matrix:
        """The weighted plays of the users who have any, float64; clears the dual state."""
        x = self.weights.fit(train.matrix).transform(train.matrix)
        self.dual_x = sp.csr_matrix((0, 0), dtype=np.float32)
        self.dual_kernel = np.zeros((0, 0), dtype=np.float32)
        self.dual_scale = np.zeros(0, dtype=np.float32)
        # Only users with plays enter the Gram matrices (others add nothing but size).
        return sp.csr_matrix(x[np.diff(x.indptr) > 0], dtype=np.float64)

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        x = self._training_matrix(train)
        if self.resolved_solver(x.shape[0], x.shape[1]) == "primal":
            self._fit_primal(x, self.l2)
        else:
            self._fit_dual(x, self.l2)

    def _fit_primal(self, x: sp.csr_matrix, penalty: float | np.ndarray) -> None:
        """``B`` from ``P = (XᵀX + diag(penalty))⁻¹`` (a scalar or one penalty per item)."""
        n_items = x.shape[1]
        gram = np.asarray((x.T @ x).todense(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += penalty
        p = _spd_inverse(gram)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        k = self.neighbours if self.neighbours > 0 else n_items
        rows_all, cols_all, values_all = [], [], []
        for start in range(0, n_items, _BLOCK):
            rows, cols, values = _top_k_rows_dense(b[start : start + _BLOCK], k)
            keep = values != 0
            rows_all.append(rows[keep] + start)
            cols_all.append(cols[keep])
            values_all.append(values[keep].astype(np.float32))
        self.similarity = sp.csr_matrix(
            (np.concatenate(values_all), (np.concatenate(rows_all), np.concatenate(cols_all))),
            shape=(n_items, n_items),
            dtype=np.float32,
        )

    def _fit_dual(self, x: sp.csr_matrix, l2: float) -> None:
        inner = np.asarray((x @ x.T).todense(), dtype=np.float64)
        inner[np.diag_indices_from(inner)] += l2
        kernel = _spd_inverse(inner)
        # q_j = x_jᵀ K x_j for every item column x_j: sum over users of X ∘ (K X).
        xt = sp.csr_matrix(x.T)
        kx = np.asarray(xt @ kernel)  # (K X)ᵀ, items x users
        q = np.ravel(xt.multiply(kx).sum(axis=1))
        self.dual_x = sp.csr_matrix(x, dtype=np.float32)
        self.dual_kernel = kernel  # float64: scores must not depend on the batch
        self.dual_scale = (1.0 / np.maximum(1.0 - q, 1e-12)).astype(np.float32)
        n_items = x.shape[1]
        self.similarity = sp.csr_matrix((n_items, n_items), dtype=np.float32)

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        if not self.is_dual:
            return super().score(user_items, user_rows)
        r = self.weights.transform(sp.csr_matrix(user_items))
        return np.ascontiguousarray(self._dual_scores(r), dtype=np.float32)

    def _dual_scores(self, r: sp.csr_matrix) -> np.ndarray:
        """``r B`` in the dual form for weighted rows ``r``."""
        # float64 throughout: the result must not depend on the batch's BLAS path.
        projected = np.asarray((r @ self.dual_x.T).todense(), dtype=np.float64) @ self.dual_kernel
        spread = np.asarray(self.dual_x.T @ projected.T).T  # (r Xᵀ K) X
        # x_u B = r - r·P·D: unplayed items get the spread scaled by 1/(1 - q_j); a played
        # item j loses its own contribution (diag(B) = 0).
        scores = spread * self.dual_scale[None, :]
        dense_r = np.asarray(r.todense(), dtype=np.float64)
        scores += dense_r * (1.0 - self.dual_scale[None, :])
        return np.ascontiguousarray(scores, dtype=np.float64)

    def _state(self) -> dict[str, np.ndarray]:
        if not self.is_dual:
            return super()._state()
        return {
            "dual_data": self.dual_x.data,
            "dual_indices": self.dual_x.indices,
            "dual_indptr": self.dual_x.indptr,
            "dual_shape": np.asarray(self.dual_x.shape),
            "dual_kernel": self.dual_kernel,
            "dual_scale": self.dual_scale,
            **self.weights.state(),
        }

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        if "dual_kernel" not in state:
            super()._load_state(state)
            return
        self.weights.load_state(state)
        self.dual_x = sp.csr_matrix(
            (state["dual_data"], state["dual_indices"], state["dual_indptr"]),
            shape=tuple(state["dual_shape"]),
        )
        self.dual_kernel = np.asarray(state["dual_kernel"], dtype=np.float64)
        self.dual_scale = state["dual_scale"]
        n_items = self.dual_x.shape[1]
        self.similarity = sp.csr_matrix((n_items, n_items), dtype=np.float32)

    def similar_items(self, item_indices: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        if not self.is_dual:
            return super().similar_items(item_indices, k)
        return Recommender.similar_items(self, item_indices, k)


class EDLAERecommender(EASERecommender):
    """EDLAE (Steck 2020, "Autoencoders that don't overfit towards the identity"): EASE^R
    whose ridge penalty grows with each item's own weight, as dropout of the input would.

    Training with dropout probability ``p`` on the input adds ``p / (1 - p) · G_ii`` to item
    ``i``'s penalty (``G = XᵀX``), so ``P = (G + diag(λ))⁻¹`` with
    ``λ_i = l2 + dropout / (1 - dropout) · G_ii``, ``B = I - P·diag(1/diag(P))``,
    ``diag(B) = 0``. Popular items are regularised harder; ``popularity_power`` then divides
    each output score by ``listeners ** popularity_power`` (training listeners, at least 1).

    Solvers as EASE^R. The dual form solves the same problem for ``Y = X·diag(λ)^-½`` with
    ``l2 = 1`` (``P = diag(λ)^-½ (YᵀY + I)⁻¹ diag(λ)^-½``): a user's row is scaled by
    ``λ^-½`` on the way in and the scores by ``λ^½`` on the way out.

    ``factors > 0`` adds a low-rank term: ``V``, the top ``factors`` right singular vectors
    of ``X·diag(listeners^-¼)`` (PureSVD on rarity-scaled plays), scores
    ``x_u·diag(listeners^-¼)·V·Vᵀ``; the model's score is then
    ``(1 - factor_weight)·z(EDLAE) + factor_weight·z(low rank)`` with per-user z-scores.
    """

    name = "edlae"

    def __init__(
        self,
        l2: float = 50.0,
        dropout: float = 0.5,
        popularity_power: float = 0.0,
        factors: int = 0,
        factor_weight: float = 0.5,
        neighbours: int = 500,
        weighting: Weighting = "binary",
        solver: Solver = "auto",
    ) -> None:
        super().__init__(l2=l2, neighbours=neighbours, weighting=weighting, solver=solver)
        if not 0.0 <= dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        if not 0.0 <= factor_weight <= 1.0:
            raise ValueError("factor_weight must be in [0, 1]")
        self.dropout = dropout
        self.popularity_power = popularity_power
        self.factors = factors
        self.factor_weight = factor_weight
        self.factor_scale = np.zeros(0, dtype=np.float64)  # listeners^-¼ (low-rank input)
        self.factor_items = np.zeros((0, 0), dtype=np.float64)  # V, items x factors
        self.input_scale = np.zeros(0, dtype=np.float64)  # λ^-½ (dual form only)
        self.discount = np.zeros(0, dtype=np.float64)  # listeners ** -popularity_power

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "dropout": self.dropout,
            "popularity_power": self.popularity_power,
            "factors": self.factors,
            "factor_weight": self.factor_weight,
        }

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        x = self._training_matrix(train)
        own = np.ravel(x.multiply(x).sum(axis=0))  # G_ii
        penalty = self.l2 + self.dropout / (1.0 - self.dropout) * own
        listeners = np.maximum(np.diff(sp.csc_matrix(x).indptr), 1).astype(np.float64)
        self.discount = listeners**-self.popularity_power
        self._fit_factors(x, listeners)
        if self.resolved_solver(x.shape[0], x.shape[1]) == "primal":
            self.input_scale = np.zeros(0, dtype=np.float64)
            self._fit_primal(x, penalty)
        else:
            self.input_scale = 1.0 / np.sqrt(penalty)
            self._fit_dual(sp.csr_matrix(x @ sp.diags(self.input_scale)), 1.0)

    def _fit_factors(self, x: sp.csr_matrix, listeners: np.ndarray) -> None:
        self.factor_scale = np.zeros(0, dtype=np.float64)
        self.factor_items = np.zeros((0, 0), dtype=np.float64)
        rank = min(self.factors, min(x.shape) - 1)
        if rank <= 0 or self.factor_weight == 0:
            return
        self.factor_scale = listeners**-0.25
        # A fixed start vector: the same training data gives the same factors.
        start = np.full(min(x.shape), 1.0 / np.sqrt(min(x.shape)))
        _, _, vt = svds(sp.csr_matrix(x @ sp.diags(self.factor_scale)), k=rank, v0=start)
        self.factor_items = np.ascontiguousarray(vt.T)

    def score(self, user_items: sp.csr_matrix, user_rows: np.ndarray | None = None) -> np.ndarray:
        r = self.weights.transform(sp.csr_matrix(user_items))
        if self.is_dual:
            scaled = sp.csr_matrix(r @ sp.diags(self.input_scale))
            scores = self._dual_scores(scaled) / self.input_scale[None, :]
        else:
            scores = np.asarray((r @ self.similarity).todense(), dtype=np.float64)
        scores *= self.discount[None, :]
        if self.factor_items.size:
            projected = np.asarray((r @ sp.diags(self.factor_scale)) @ self.factor_items)
            low_rank = projected @ self.factor_items.T
            w = self.factor_weight
            scores = (1 - w) * standardise_rows(scores) + w * standardise_rows(low_rank)
        return np.ascontiguousarray(scores, dtype=np.float32)

    def similar_items(self, item_indices: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        return Recommender.similar_items(self, item_indices, k)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            **super()._state(),
            "discount": self.discount,
            "input_scale": self.input_scale,
            "factor_scale": self.factor_scale,
            "factor_items": self.factor_items,
        }

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        super()._load_state(state)
        self.discount = np.asarray(state["discount"], dtype=np.float64)
        self.input_scale = np.asarray(state["input_scale"], dtype=np.float64)
        self.factor_scale = np.asarray(state["factor_scale"], dtype=np.float64)
        self.factor_items = np.asarray(state["factor_items"], dtype=np.float64)


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of the regularised (symmetric positive definite) Gram matrix."""
    return np.asarray(
        scipy.linalg.inv(np.asfortranarray(matrix), overwrite_a=True, check_finite=False)
    )


class RP3betaRecommender(_ItemItemModel):
    """RP3beta (Paudel et al. 2017): a 3-step random walk user → item → user → item.

    ``W_ij = sum_u p(u|i)^alpha * p(j|u)^alpha / pop(j)^beta``, each item keeping its
    ``neighbours`` largest weights. ``beta`` trades accuracy against popularity bias.
    """

    name = "rp3beta"

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 0.5,
        neighbours: int = 200,
        weighting: Weighting = "binary",
    ) -> None:
        super().__init__(weighting)
        self.alpha = alpha
        self.beta = beta
        self.neighbours = neighbours

    def get_params(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "neighbours": self.neighbours,
            "weighting": self.weighting,
        }

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        x = self.weights.fit(train.matrix).transform(train.matrix)
        user_to_item = _row_normalise(x)  # p(j | u)
        item_to_user = _row_normalise(sp.csr_matrix(x.T))  # p(u | i)
        if self.alpha != 1.0:
            user_to_item.data **= self.alpha
            item_to_user.data **= self.alpha
        popularity = np.diff(sp.csc_matrix(x).indptr).astype(np.float64)
        penalty = np.zeros_like(popularity)
        np.power(popularity, -self.beta, out=penalty, where=popularity > 0)
        walk = sp.csr_matrix(item_to_user @ user_to_item, dtype=np.float64)
        walk = sp.csr_matrix(walk @ sp.diags(penalty), dtype=np.float32)
        walk.setdiag(0)
        walk.eliminate_zeros()
        self.similarity = keep_top_k_per_row(walk, self.neighbours or walk.shape[1])


def _row_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    sums = np.ravel(matrix.sum(axis=1))
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    matrix.data *= np.repeat(scale, np.diff(matrix.indptr))
    return matrix
