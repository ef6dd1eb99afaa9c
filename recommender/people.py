"""People by taste: who listens like whom, and the offline people metric.

``people_scores`` returns a users x users similarity (higher = closer taste; the diagonal is
meaningless) from the interaction matrix alone; ``PeopleTaste`` is the one implementation of
the ``taste`` similarity, used by the benchmark here and by ``TasteIndex.people`` when serving:

- ``cosine``: plain co-listening cosine over play counts (the baseline);
- ``cosine-log``: the same over ``log(1 + plays)``;
- ``taste``: damped play counts (``plays ** power``), each user's row L2-normalised, then each
  artist column divided by ``listeners ** rarity_power`` (no renormalisation: a user whose
  plays sit on rare artists keeps the larger vector); similarity is the dot product, times the
  other user's ``total plays ** activity_power`` (an active listener is a likelier friend),
  plus ``genre_weight`` times the cosine of their genre profiles. Sharing an artist few people
  play says more than sharing the biggest act: the weight of a shared artist in the product
  is ``1 / listeners ** (2 * rarity_power)``.

The parameters were chosen on one half of HetRec's users and reported on the other
(``bench/recommender.py --only people``, figures in ``docs/recommender.md``).

``friends_in_top_k`` is the share of each user's top-k people who are their friends
(HetRec ``user_friends``), averaged over users with at least one friend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.data import Dataset, Interactions
from recommender.genres import GenreSpace

PeopleMethod = Literal["cosine", "cosine-log", "taste"]


@dataclass(frozen=True)
class TasteParams:
    """The ``taste`` similarity's parameters (see the module docstring)."""

    power: float = 0.625
    rarity_power: float = 0.25
    activity_power: float = 0.1
    genre_weight: float = 0.0


@dataclass(frozen=True)
class PeopleTaste:
    """The ``taste`` similarity fitted on a users x items play matrix."""

    vectors: sp.csr_matrix  # users x items, float64
    prior: np.ndarray  # per user: total plays ** activity_power
    genre_profiles: sp.csr_matrix | None  # L2-normalised genre profiles, when genre_weight
    params: TasteParams

    @classmethod
    def fit(
        cls,
        matrix: sp.csr_matrix,
        genres: GenreSpace | None = None,
        params: TasteParams | None = None,
    ) -> PeopleTaste:
        params = TasteParams() if params is None else params
        damped = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
        damped.data = np.power(damped.data, params.power)
        listeners = np.diff(sp.csc_matrix(matrix).indptr).astype(np.float64)
        rarity = 1.0 / np.maximum(listeners, 1.0) ** params.rarity_power
        vectors = sp.csr_matrix(normalize(damped) @ sp.diags(rarity))
        totals = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
        prior = np.maximum(totals, 0.0) ** params.activity_power
        profiles = None
        if params.genre_weight and genres is not None:
            profiles = sp.csr_matrix(normalize(genres.profiles(matrix)), dtype=np.float64)
        return cls(vectors, prior, profiles, params)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), n_users) float32 similarities of the users at ``rows`` to everyone."""
        rows = np.asarray(rows, dtype=np.int64)
        scores = np.asarray((self.vectors[rows] @ self.vectors.T).todense(), dtype=np.float64)
        if self.genre_profiles is not None:
            genre = self.genre_profiles[rows] @ self.genre_profiles.T
            scores += self.params.genre_weight * np.asarray(genre.todense())
        return (scores * self.prior[None, :]).astype(np.float32)


def people_scores(
    interactions: Interactions,
    genres: GenreSpace | None = None,
    method: PeopleMethod = "taste",
    params: TasteParams | None = None,
) -> np.ndarray:
    """Dense users x users similarity under ``method`` (see the module docstring)."""
    matrix = interactions.matrix
    if method == "taste":
        return PeopleTaste.fit(matrix, genres, params).scores(np.arange(matrix.shape[0]))
    if method == "cosine":
        vectors = sp.csr_matrix(normalize(matrix), dtype=np.float32)
    elif method == "cosine-log":
        logged = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
        logged.data = np.log1p(logged.data)
        vectors = sp.csr_matrix(normalize(logged), dtype=np.float32)
    else:
        raise ValueError(f"unknown people method {method!r}")
    return np.asarray((vectors @ vectors.T).todense(), dtype=np.float32)


def friends_in_top_k(
    scores: np.ndarray, dataset: Dataset, k: int = 10, users: np.ndarray | None = None
) -> float:
    """Mean share of friends among each user's top-``k`` others, over the users with a friend
    (only those among the row indices ``users``, when given; everyone stays a candidate)."""
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
    counted = np.diff(friends.indptr) > 0
    if users is not None:
        chosen = np.zeros(n, dtype=bool)
        chosen[np.asarray(users, dtype=np.int64)] = True
        counted &= chosen
    shares = [
        np.isin(top[u], friends.indices[friends.indptr[u] : friends.indptr[u + 1]]).sum() / k
        for u in np.flatnonzero(counted)
    ]
    return float(np.mean(shares)) if shares else 0.0
