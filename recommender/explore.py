"""Genres to explore: genres next to a listener's taste that they do not play yet.

Genres are connected by co-listening: ``C = Pᵀ P`` over the users' genre profiles ``P``
(two genres are close when the same people play both), cosine-normalised. A listener's
candidates are ``profile @ C``; genres already among their own ``known`` strongest genres
are left out, so what remains is adjacent, not the same.

``explore_hit_rate`` measures it offline on HetRec: per user, the artists they tagged last
(by the tag dates) are held out as their "new artists"; the genres of those artists that the
user did not play before are the targets; a user is a hit when one of the top-``k``
suggestions is a target. The side information is built from the remaining plays only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.data import Dataset, Interactions
from recommender.genres import GenreSpace


@dataclass(frozen=True)
class GenreGraph:
    """Genre-genre co-listening cosine over a genre space."""

    genres: GenreSpace
    adjacency: np.ndarray  # (n_genres, n_genres), cosine, zero diagonal
    popularity: np.ndarray  # (n_genres,) how many listeners have the genre in their profile
    popularity_power: float = 1.0

    @classmethod
    def fit(
        cls, interactions: Interactions, genres: GenreSpace, popularity_power: float = 1.0
    ) -> GenreGraph:
        profiles = genres.profiles(interactions.matrix)
        columns = sp.csr_matrix(normalize(sp.csc_matrix(profiles).T.tocsr()))
        adjacency = np.asarray((columns @ columns.T).todense(), dtype=np.float32)
        np.fill_diagonal(adjacency, 0.0)
        popularity = np.diff(sp.csc_matrix(profiles).indptr).astype(np.float32)
        return cls(genres, adjacency, popularity, popularity_power)

    def explore(self, user_items: sp.csr_matrix, k: int = 5, known: int = 10) -> list[str]:
        """The ``k`` genres most connected to the user's profile, outside their top ``known``."""
        profile = self.genres.profiles(sp.csr_matrix(user_items)[:1])
        dense = np.asarray(profile.todense()).ravel()
        # Adjacent *and* widely played: an obscure tag next to one artist is not a genre to
        # explore (``popularity_power`` 0 = adjacency alone).
        scores = (dense @ self.adjacency) * np.log1p(self.popularity) ** self.popularity_power
        return self._top(scores, dense, k, known)

    def popular(self, user_items: sp.csr_matrix, k: int = 5, known: int = 10) -> list[str]:
        """Baseline: the most widespread genres outside the user's top ``known``."""
        profile = self.genres.profiles(sp.csr_matrix(user_items)[:1])
        return self._top(self.popularity.copy(), np.asarray(profile.todense()).ravel(), k, known)

    def _top(self, scores: np.ndarray, profile: np.ndarray, k: int, known: int) -> list[str]:
        scores = np.array(scores, dtype=np.float64)
        if known and profile.any():
            mine = np.argsort(-profile, kind="stable")[:known]
            scores[mine[profile[mine] > 0]] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        return [str(self.genres.vocabulary[g]) for g in order if np.isfinite(scores[g])]


def explore_hit_rate(
    dataset: Dataset,
    tag_dates: pd.DataFrame,
    k: int = 5,
    known: int = 10,
    new_fraction: float = 0.2,
    target_genres: int = 3,
) -> pd.DataFrame:
    """Hit rate@k of genres to explore vs popular genres (see the module docstring).

    ``tag_dates``: ``user_id, item_id, date`` (when the user first tagged the artist).
    """
    interactions = dataset.interactions
    first = tag_dates.groupby(["user_id", "item_id"], as_index=False)["date"].min()
    rows = interactions.user_index(first["user_id"].to_numpy())
    cols = interactions.item_index(first["item_id"].to_numpy())
    first = first.assign(row=rows, col=cols)
    first = first[(first["row"] >= 0) & (first["col"] >= 0)]
    matrix = interactions.matrix.tocsr()
    played = set(zip(*matrix.nonzero(), strict=True))
    first = first[[(r, c) in played for r, c in zip(first["row"], first["col"], strict=True)]]
    held: list[tuple[int, int]] = []
    for row, group in first.sort_values("date", kind="stable").groupby("row"):
        n_new = int(len(group) * new_fraction)
        if n_new >= 1 and len(group) - n_new >= 1:
            held.extend((int(row), int(c)) for c in group["col"].to_numpy()[-n_new:])
    if not held:
        return pd.DataFrame()
    mask = sp.csr_matrix(
        (np.ones(len(held)), ([r for r, _ in held], [c for _, c in held])), shape=matrix.shape
    )
    train = interactions.with_matrix(matrix - matrix.multiply(mask))
    genres = GenreSpace(min_item_count=5).fit(interactions.item_ids, dataset.features.build(train))
    graph = GenreGraph.fit(train, genres)
    hits: dict[str, list[bool]] = {"genres to explore": [], "popular genres": []}
    by_user: dict[int, list[int]] = {}
    for row, col in held:
        by_user.setdefault(row, []).append(col)
    for row, new_items in by_user.items():
        user_row = train.matrix[row]
        profile = np.asarray(genres.profiles(user_row).todense()).ravel()
        strongest = np.argsort(-profile, kind="stable")[:known]
        mine = {int(g) for g in strongest if profile[g] > 0}
        targets = set()
        for item in new_items:
            for genre in genres.item_genres(item, target_genres):
                index = genres._genre_lookup.get(genre)
                if index is not None and index not in mine:
                    targets.add(genre)
        if not targets:
            continue
        hits["genres to explore"].append(bool(targets & set(graph.explore(user_row, k, known))))
        hits["popular genres"].append(bool(targets & set(graph.popular(user_row, k, known))))
    return pd.DataFrame(
        {
            f"hit rate@{k}": {name: float(np.mean(v)) if v else 0.0 for name, v in hits.items()},
            "users": {name: len(v) for name, v in hits.items()},
        }
    )
