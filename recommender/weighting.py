"""Confidence weighting of play counts before a model sees them."""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

Weighting = Literal["none", "log", "bm25"]
WEIGHTINGS: tuple[Weighting, ...] = ("none", "log", "bm25")


def log_weight(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``log(1 + plays)``: the 10,000th play of an artist counts little more than the 100th."""
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data = np.log1p(out.data)
    return out


def bm25_weight(matrix: sp.csr_matrix, k1: float = 100.0, b: float = 0.8) -> sp.csr_matrix:
    """BM25 over a users x items matrix, treating each item as a document of its listeners.

    Saturates large play counts (``k1``), normalises by how many listens an item has in total
    (``b``) and down-weights users who play everything (IDF over items). This is the weighting
    implicit's Last.fm example uses for ALS.
    """
    item_users = sp.coo_matrix(matrix, dtype=np.float64).T
    n_docs = float(item_users.shape[0])
    idf = np.log(n_docs) - np.log1p(np.bincount(item_users.col, minlength=item_users.shape[1]))
    row_sums = np.ravel(item_users.sum(axis=1))
    average = row_sums.mean() if row_sums.size and row_sums.mean() > 0 else 1.0
    length_norm = (1.0 - b) + b * row_sums / average
    data = (
        item_users.data
        * (k1 + 1.0)
        / (k1 * length_norm[item_users.row] + item_users.data)
        * idf[item_users.col]
    )
    weighted = sp.coo_matrix((data, (item_users.row, item_users.col)), shape=item_users.shape)
    out = sp.csr_matrix(weighted.T, dtype=np.float32)
    # idf is <= 0 for a user who played every item; such entries carry no preference.
    out.data = np.maximum(out.data, 0.0)
    out.eliminate_zeros()
    return out


def apply_weighting(matrix: sp.csr_matrix, weighting: Weighting) -> sp.csr_matrix:
    """The matrix under the named weighting (``none`` returns the plays as float32)."""
    if weighting == "none":
        return sp.csr_matrix(matrix, dtype=np.float32)
    if weighting == "log":
        return log_weight(matrix)
    if weighting == "bm25":
        return bm25_weight(matrix)
    raise ValueError(f"unknown weighting {weighting!r}; expected one of {WEIGHTINGS}")
