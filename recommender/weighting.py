"""Confidence weighting of play counts before a model sees them.

Weightings that depend on corpus statistics (BM25's per-item length normalisation) are
*fitted* once on the training matrix (:class:`FittedWeighting`) and stored with the model,
so a user is weighted the same way at training time, in evaluation and at serving time,
alone or in a batch of any size.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

Weighting = Literal["none", "binary", "log", "bm25"]
WEIGHTINGS: tuple[Weighting, ...] = ("none", "binary", "log", "bm25")
BM25_K1 = 100.0
BM25_B = 0.8


def log_weight(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``log(1 + plays)``: the 10,000th play of an artist counts little more than the 100th."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data = np.log1p(out.data)
    return out


def binary_weight(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1 for every played item, whatever the count."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data[:] = 1.0
    return out


def bm25_length_norm(matrix: sp.csr_matrix, b: float = BM25_B) -> np.ndarray:
    """BM25's per-item length normalisation ``(1 - b) + b * plays(item) / mean plays``.

    A corpus statistic: computed once on the training matrix and stored.
    """
    item_plays = np.ravel(sp.csr_matrix(matrix, dtype=np.float64).sum(axis=0))
    average = item_plays.mean() if item_plays.size and item_plays.mean() > 0 else 1.0
    return ((1.0 - b) + b * item_plays / average).astype(np.float64)


def bm25_weight(
    matrix: sp.csr_matrix,
    k1: float = BM25_K1,
    b: float = BM25_B,
    length_norm: np.ndarray | None = None,
) -> sp.csr_matrix:
    """BM25 over a users x items matrix, treating each item as a document of its listeners.

    Saturates large play counts (``k1``), normalises by how many listens an item has in total
    (``b``; ``length_norm`` is that statistic fitted on the training matrix, computed from
    ``matrix`` itself when not given) and down-weights users who play everything (an IDF
    over items that depends only on the user's own row and the catalogue size). This is the
    weighting implicit's Last.fm example uses for ALS.
    """
    csr = sp.csr_matrix(matrix, dtype=np.float64)
    if length_norm is None:
        length_norm = bm25_length_norm(csr, b)
    n_items = float(csr.shape[1])
    per_user = np.diff(csr.indptr)
    idf = np.log(n_items) - np.log1p(per_user)
    coo = csr.tocoo()
    data = coo.data * (k1 + 1.0) / (k1 * length_norm[coo.col] + coo.data) * idf[coo.row]
    out = sp.csr_matrix((data, (coo.row, coo.col)), shape=csr.shape, dtype=np.float32)
    # idf is <= 0 for a user who played every item; such entries carry no preference.
    out.data = np.maximum(out.data, 0.0)
    out.eliminate_zeros()
    return out


def apply_weighting(
    matrix: sp.csr_matrix, weighting: Weighting, length_norm: np.ndarray | None = None
) -> sp.csr_matrix:
    """The matrix under the named weighting (``none`` returns the plays as float32).

    Prefer :class:`FittedWeighting` in models: without ``length_norm``, BM25 takes its item
    statistics from ``matrix`` itself, so the weights of a user depend on who else is in it.
    """
    if weighting == "none":
        return sp.csr_matrix(matrix, dtype=np.float32)
    if weighting == "binary":
        return binary_weight(matrix)
    if weighting == "log":
        return log_weight(matrix)
    if weighting == "bm25":
        return bm25_weight(matrix, length_norm=length_norm)
    raise ValueError(f"unknown weighting {weighting!r}; expected one of {WEIGHTINGS}")


class FittedWeighting:
    """A weighting with its corpus statistics fixed at fit time.

    ``FittedWeighting(w).fit(train)`` remembers what BM25 needs from the training matrix;
    ``transform(rows)`` then weights any rows (one user, a batch, the whole matrix) with
    those statistics, so every path (fit, evaluation, serving) weights a user identically.
    """

    def __init__(self, weighting: Weighting) -> None:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {weighting!r}; expected one of {WEIGHTINGS}")
        self.weighting: Weighting = weighting
        self.length_norm: np.ndarray | None = None

    def fit(self, matrix: sp.csr_matrix) -> FittedWeighting:
        self.length_norm = bm25_length_norm(matrix) if self.weighting == "bm25" else None
        return self

    def transform(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        if self.weighting == "bm25" and self.length_norm is None:
            raise RuntimeError("FittedWeighting.transform before fit")
        return apply_weighting(matrix, self.weighting, self.length_norm)

    def state(self) -> dict[str, np.ndarray]:
        return {} if self.length_norm is None else {"weighting_length_norm": self.length_norm}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        norm = state.get("weighting_length_norm")
        self.length_norm = None if norm is None else np.asarray(norm, dtype=np.float64)
