"""Genres to explore: genres next to a listener's taste that they do not play yet.

Genres are connected by co-listening: ``C = Pᵀ P`` over the users' genre profiles ``P``
(two genres are close when the same people play both), cosine-normalised. A listener's
candidates are ``profile @ C``; genres already among their own ``known`` strongest genres
are left out, so what remains is adjacent, not the same.

``neighbour_genre_scores`` is the alternative measured next to it: the genres that the
listener's nearest people by taste (``recommender.people.PeopleTaste``, the people
recommendations' similarity) play, weighted by how close each is.

``explore_hit_rate`` measures both offline on HetRec: per user, the artists they tagged last
(by the tag dates) are held out as their "new artists"; the genres of those artists that the
user did not play before are the targets; a user is a hit when one of the top-``k``
suggestions is a target. "Did not play before" is "outside their ``known`` strongest genres"
by default, and "in none of their plays" with ``strict`` (candidates too). The side
information is built from the remaining plays only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.data import ITEM_COL, USER_COL, WEIGHT_COL, Dataset, Interactions
from recommender.genres import GenreSpace, normalise_genre
from recommender.people import PeopleTaste


@dataclass(frozen=True, slots=True)
class GenreSuggestion:
    """One genre to explore: its score and the listener's genre that leads to it."""

    genre: str
    score: float
    # The listener's own genre contributing most to the score (None: suggested as popular).
    because: str | None
    # How many of the listener's taste neighbours play it (0: not a neighbours' suggestion).
    neighbours: int = 0


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

    @property
    def vocabulary(self) -> list[str]:
        return [str(genre) for genre in self.genres.vocabulary]

    def profile(self, user_items: sp.csr_matrix) -> np.ndarray:
        """The dense genre profile of one listener given as an item-weight row."""
        return np.asarray(self.genres.profiles(sp.csr_matrix(user_items)[:1]).todense()).ravel()

    def profile_of_plays(
        self, genre_lists: Sequence[Sequence[str]], plays: Sequence[float]
    ) -> np.ndarray:
        """The dense genre profile of one listener from the genres of the tracks they played
        and how often they played each.

        Equal to ``profile`` when the space was fitted on these tracks' genres with unit
        weights (an item's TF-IDF row is then ``genre_vectors`` of its genre list), so a
        server that knows only plays and genres ranks as the offline measurement does.
        """
        if not len(genre_lists):
            return np.zeros(self.genres.n_genres, dtype=np.float32)
        vectors = self.genres.genre_vectors(genre_lists)
        weights = np.log1p(np.asarray(plays, dtype=np.float32)).reshape(1, -1)
        row = sp.csr_matrix(weights) @ vectors
        return np.asarray(normalize(row).todense(), dtype=np.float32).ravel()

    def explore(self, user_items: sp.csr_matrix, k: int = 5, known: int = 10) -> list[str]:
        """The ``k`` genres most connected to the user's profile, outside their top ``known``."""
        return [s.genre for s in self.explore_profile(self.profile(user_items), k, known)]

    def explore_profile(
        self, profile: np.ndarray, k: int = 5, known: int = 10
    ) -> list[GenreSuggestion]:
        """``explore`` for a dense profile, with the genre of the listener's that leads to
        each suggestion (the largest term of ``profile @ adjacency`` for it)."""
        profile = np.asarray(profile, dtype=np.float64).ravel()
        # Adjacent *and* widely played: an obscure tag next to one artist is not a genre to
        # explore (``popularity_power`` 0 = adjacency alone).
        scores = (profile @ self.adjacency) * np.log1p(self.popularity) ** self.popularity_power
        suggestions = []
        for g in self._top(scores, profile, k, known):
            contributions = profile * self.adjacency[:, g]
            source = int(np.argmax(contributions))
            because = self.vocabulary[source] if contributions[source] > 0 else None
            suggestions.append(GenreSuggestion(self.vocabulary[g], float(scores[g]), because))
        return suggestions

    def popular(self, user_items: sp.csr_matrix, k: int = 5, known: int = 10) -> list[str]:
        """Baseline: the most widespread genres outside the user's top ``known``."""
        return [s.genre for s in self.popular_profile(self.profile(user_items), k, known)]

    def popular_profile(
        self, profile: np.ndarray, k: int = 5, known: int = 10
    ) -> list[GenreSuggestion]:
        """``popular`` for a dense profile (an empty one: a listener with no plays)."""
        profile = np.asarray(profile, dtype=np.float64).ravel()
        return [
            GenreSuggestion(self.vocabulary[g], float(self.popularity[g]), None)
            for g in self._top(self.popularity.copy(), profile, k, known)
        ]

    def listeners(self, genre: str) -> int:
        """How many listeners have ``genre`` in their profile (0 when it is unknown)."""
        index = self.genres._genre_lookup.get(normalise_genre(genre))
        return 0 if index is None else int(self.popularity[index])

    def neighbours(self, genre: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` genres most co-listened with ``genre`` (none when it is unknown)."""
        index = self.genres._genre_lookup.get(normalise_genre(genre))
        if index is None:
            return []
        row = self.adjacency[index]
        order = np.argsort(-row, kind="stable")[:k]
        return [(self.vocabulary[g], float(row[g])) for g in order if row[g] > 0]

    def _top(self, scores: np.ndarray, profile: np.ndarray, k: int, known: int) -> list[int]:
        scores = np.array(scores, dtype=np.float64)
        if known and profile.any():
            mine = np.argsort(-profile, kind="stable")[:known]
            scores[mine[profile[mine] > 0]] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        return [int(g) for g in order if np.isfinite(scores[g])]

    def state(self) -> dict[str, np.ndarray]:
        """Arrays for ``np.savez`` (no pickle); the adjacency is stored sparse."""
        adjacency = sp.coo_matrix(self.adjacency)
        return {
            "vocabulary": self.genres.vocabulary.astype(str),
            "idf": np.asarray(self.genres.idf, dtype=np.float64),
            "adjacency_row": adjacency.row.astype(np.int32),
            "adjacency_col": adjacency.col.astype(np.int32),
            "adjacency_data": adjacency.data.astype(np.float32),
            "popularity": self.popularity.astype(np.float32),
            "popularity_power": np.asarray([self.popularity_power], dtype=np.float64),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, np.ndarray]) -> GenreGraph:
        vocabulary = np.asarray(state["vocabulary"]).astype(str)
        n = len(vocabulary)
        genres = GenreSpace.from_state(
            {
                "vocabulary": vocabulary,
                "idf": np.asarray(state["idf"], dtype=np.float64),
                "item_data": np.zeros(0, dtype=np.float32),
                "item_indices": np.zeros(0, dtype=np.int32),
                "item_indptr": np.zeros(1, dtype=np.int32),
                "item_shape": np.asarray([0, n]),
            }
        )
        adjacency = sp.coo_matrix(
            (state["adjacency_data"], (state["adjacency_row"], state["adjacency_col"])),
            shape=(n, n),
        ).toarray()
        return cls(
            genres,
            np.asarray(adjacency, dtype=np.float32),
            np.asarray(state["popularity"], dtype=np.float32),
            float(np.asarray(state["popularity_power"]).ravel()[0]),
        )


def fit_genre_graph(
    plays: pd.DataFrame, track_genres: pd.DataFrame, popularity_power: float = 1.0
) -> GenreGraph:
    """The co-listening graph of a catalog's genres from plays and tracks' genre lists.

    ``plays``: ``user_id, item_id, weight`` (play counts); ``track_genres``: ``item_id, tag``
    with unit weights (a track has a genre or not), the shape TuneWave's catalog has.
    """
    users = np.sort(plays[USER_COL].unique())
    items = np.sort(plays[ITEM_COL].unique())
    matrix = sp.csr_matrix(
        (
            plays[WEIGHT_COL].to_numpy(dtype=np.float32),
            (
                pd.Index(users).get_indexer(plays[USER_COL].to_numpy()),
                pd.Index(items).get_indexer(plays[ITEM_COL].to_numpy()),
            ),
        ),
        shape=(len(users), len(items)),
    )
    interactions = Interactions(matrix, users, items)
    genres = GenreSpace().fit(items, track_genres.assign(weight=1.0))
    return GenreGraph.fit(interactions, genres, popularity_power)


def weighted_genre_scores(profiles: sp.spmatrix | np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Genre scores lent by taste neighbours: their genre ``profiles`` (one row each) summed,
    each weighted by how close they are (``weights``, their similarity to the listener)."""
    weights = np.asarray(weights, dtype=np.float64).ravel()
    if not weights.size:
        return np.zeros(profiles.shape[1], dtype=np.float64)
    return np.asarray(weights @ profiles, dtype=np.float64).ravel()


def neighbour_genre_scores(
    profiles: sp.csr_matrix, similarity: np.ndarray, neighbours: int = 50
) -> np.ndarray:
    """Genre scores of one listener from their taste neighbours: the ``neighbours`` users
    most similar to them (``similarity``: their row of user-user similarities, their own
    entry already excluded) summed over their genre ``profiles``, weighted by similarity."""
    similarity = np.asarray(similarity, dtype=np.float64).ravel()
    n = min(neighbours, int((similarity > 0).sum()))
    if n <= 0:
        return np.zeros(profiles.shape[1], dtype=np.float64)
    top = np.argpartition(-similarity, n - 1)[:n]
    return weighted_genre_scores(profiles[top], similarity[top])


def explore_from_neighbours(
    vocabulary: Sequence[str],
    profiles: np.ndarray,
    weights: Sequence[float],
    k: int,
    exclude: set[str],
) -> list[GenreSuggestion]:
    """The ``k`` genres the listener's taste neighbours play most, weighted by closeness
    (``weighted_genre_scores``; ``profiles``: one dense row per neighbour, as
    ``GenreGraph.profile_of_plays`` builds them, in the order of ``weights``), leaving out
    ``exclude`` (the listener's own genres) and genres no neighbour plays. Each suggestion
    says how many of the neighbours play it. This is what the served endpoint ranks with;
    ``explore_hit_rate`` scores the same sum (``neighbour_genre_scores``)."""
    profiles = np.asarray(profiles, dtype=np.float64).reshape(len(weights), len(vocabulary))
    weights_array = np.asarray(weights, dtype=np.float64)
    # Only people who are close lend genres (the offline sum skips similarity <= 0 too).
    close = weights_array > 0
    profiles, weights_array = profiles[close], weights_array[close]
    scores = weighted_genre_scores(profiles, weights_array)
    players = (profiles > 0).sum(axis=0) if len(profiles) else np.zeros(len(vocabulary))
    for g, genre in enumerate(vocabulary):
        if genre in exclude:
            scores[g] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    return [
        GenreSuggestion(str(vocabulary[g]), float(scores[g]), None, int(players[g]))
        for g in order
        if np.isfinite(scores[g]) and scores[g] > 0
    ]


def explore_hit_rate(
    dataset: Dataset,
    tag_dates: pd.DataFrame,
    k: int = 5,
    known: int = 10,
    new_fraction: float = 0.2,
    target_genres: int = 3,
    strict: bool = False,
    neighbours: int | Sequence[int] = 50,
) -> pd.DataFrame:
    """Hit rate@k of genres to explore, genres of taste neighbours and popular genres (see
    the module docstring).

    ``tag_dates``: ``user_id, item_id, date`` (when the user first tagged the artist).
    ``neighbours``: how many taste neighbours lend their genres; several counts give one row
    each (20 is what the API serves: the published people recommendations).
    """
    counts = [neighbours] if isinstance(neighbours, int) else list(neighbours)
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
    profiles = sp.csr_matrix(genres.profiles(train.matrix), dtype=np.float64)
    taste = PeopleTaste.fit(train.matrix)
    by_count = {n: f"taste neighbours ({n})" for n in counts}
    methods = ("genres to explore", *by_count.values(), "popular genres")
    hits: dict[str, list[bool]] = {name: [] for name in methods}
    by_user: dict[int, list[int]] = {}
    for row, col in held:
        by_user.setdefault(row, []).append(col)
    for row, new_items in by_user.items():
        profile = np.asarray(profiles[row].todense()).ravel()
        if strict:
            mine = {int(g) for g in np.flatnonzero(profile > 0)}
        else:
            strongest = np.argsort(-profile, kind="stable")[:known]
            mine = {int(g) for g in strongest if profile[g] > 0}
        targets = set()
        for item in new_items:
            for genre in genres.item_genres(item, target_genres):
                index = genres._genre_lookup.get(genre)
                if index is not None and index not in mine:
                    targets.add(index)
        if not targets:
            continue
        similarity = taste.scores(np.asarray([row]))[0].astype(np.float64)
        similarity[row] = 0.0
        candidates = {
            methods[0]: (profile @ graph.adjacency)
            * np.log1p(graph.popularity) ** graph.popularity_power,
            **{
                name: neighbour_genre_scores(profiles, similarity, n)
                for n, name in by_count.items()
            },
            methods[-1]: graph.popularity.astype(np.float64),
        }
        for name, scores in candidates.items():
            scores = np.array(scores, dtype=np.float64)
            scores[list(mine)] = -np.inf
            top = np.argsort(-scores, kind="stable")[:k]
            hits[name].append(bool(targets & {int(g) for g in top if np.isfinite(scores[g])}))
    return pd.DataFrame(
        {
            f"hit rate@{k}": {name: float(np.mean(v)) if v else 0.0 for name, v in hits.items()},
            "users": {name: len(v) for name, v in hits.items()},
        }
    )
