"""People by taste: who listens like whom, and the offline people metric.

``people_scores`` returns a users x users similarity (higher = closer taste; the diagonal is
meaningless) from the interaction matrix alone, so the pipeline and the benchmark use the
same definition:

- ``cosine``: plain co-listening cosine over play counts (the baseline);
- ``cosine-log``: the same over ``log(1 + plays)``;
- ``taste``: cosine over damped play counts (``plays ** power``) weighted by each artist's
  rarity (``idf ** idf_power``, ``idf = log(n_users / (1 + listeners))``): two people who
  both play an artist few others play have more in common than two fans of the biggest
  act; plus ``genre_weight`` times the cosine of their genre profiles.

``friends_in_top_k`` is the share of each user's top-k people who are their friends
(HetRec ``user_friends``), averaged over users with at least one friend.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.data import Dataset, Interactions
from recommender.genres import GenreSpace

PeopleMethod = Literal["cosine", "cosine-log", "taste"]
TASTE_POWER = 0.75
TASTE_IDF_POWER = 1.0
TASTE_GENRE_WEIGHT = 0.05


def rarity(matrix: sp.csr_matrix) -> np.ndarray:
    """``log(n_users / (1 + listeners))`` per item, floored at 0."""
    n_users = max(matrix.shape[0], 1)
    listeners = np.diff(sp.csc_matrix(matrix).indptr)
    return np.maximum(np.log(n_users / (1.0 + listeners)), 0.0)


def taste_vectors(
    matrix: sp.csr_matrix,
    power: float = TASTE_POWER,
    idf_power: float = TASTE_IDF_POWER,
    idf: np.ndarray | None = None,
) -> sp.csr_matrix:
    """L2-normalised ``plays ** power * idf ** idf_power`` rows (``idf`` fitted, or from
    ``matrix``)."""
    damped = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    damped.data = damped.data**power
    weights = (rarity(matrix) if idf is None else idf) ** idf_power
    return sp.csr_matrix(normalize(damped @ sp.diags(weights)), dtype=np.float32)


def people_scores(
    interactions: Interactions,
    genres: GenreSpace | None = None,
    method: PeopleMethod = "taste",
    genre_weight: float = TASTE_GENRE_WEIGHT,
) -> np.ndarray:
    """Dense users x users similarity under ``method`` (see the module docstring)."""
    matrix = interactions.matrix
    if method == "cosine":
        vectors = sp.csr_matrix(normalize(matrix), dtype=np.float32)
    elif method == "cosine-log":
        logged = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
        logged.data = np.log1p(logged.data)
        vectors = sp.csr_matrix(normalize(logged), dtype=np.float32)
    elif method == "taste":
        vectors = taste_vectors(matrix)
    else:
        raise ValueError(f"unknown people method {method!r}")
    scores = np.asarray((vectors @ vectors.T).todense(), dtype=np.float32)
    if method == "taste" and genres is not None and genre_weight:
        profiles = genres.profiles(matrix)
        scores += genre_weight * np.asarray((profiles @ profiles.T).todense(), dtype=np.float32)
    return scores


def friends_in_top_k(scores: np.ndarray, dataset: Dataset, k: int = 10) -> float:
    """Mean share of friends among each user's top-``k`` others (users with a friend)."""
    interactions = dataset.interactions
    n = interactions.n_users
    rows = interactions.user_index(dataset.friends["user_id"].to_numpy())
    cols = interactions.user_index(dataset.friends["friend_id"].to_numpy())
    keep = (rows >= 0) & (cols >= 0)
    friends = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n, n), dtype=np.float32
    )
    friends = friends.maximum(friends.T).tocsr()
    scores = np.array(scores, dtype=np.float64, copy=True)
    np.fill_diagonal(scores, -np.inf)
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    has_friend = np.diff(friends.indptr) > 0
    shares = [
        np.isin(top[u], friends.indices[friends.indptr[u] : friends.indptr[u + 1]]).sum() / k
        for u in np.flatnonzero(has_friend)
    ]
    return float(np.mean(shares)) if shares else 0.0
