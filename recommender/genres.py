"""Genre/tag space: TF-IDF item vectors, user and room genre profiles, top genres."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.preprocessing import normalize

from recommender.data import ITEM_COL, WEIGHT_COL


@functools.lru_cache(maxsize=65536)
def normalise_genre(name: str) -> str:
    """One spelling per genre: lower case, single spaces ("Hip-Hop " → "hip-hop")."""
    return " ".join(str(name).strip().lower().replace("_", " ").split())


class GenreSpace:
    """Items as L2-normalised TF-IDF vectors over their genres/tags.

    The tag weights (how many listeners applied a tag) play the role of term counts, and IDF
    damps tags every item has ("rock"). Users, rooms and free genre lists (a profile's favourite
    genres, a room's genres) are projected into the same space, so any of them can be compared
    by a dot product.
    """

    def __init__(self, min_item_count: int = 1, sublinear_tf: bool = True) -> None:
        self.min_item_count = min_item_count
        self.sublinear_tf = sublinear_tf
        self.vocabulary: np.ndarray = np.array([], dtype=object)
        self.idf: np.ndarray = np.array([], dtype=np.float64)
        self.item_matrix: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self._genre_lookup: dict[str, int] = {}

    def fit(self, item_ids: np.ndarray, item_tags: pd.DataFrame) -> GenreSpace:
        """Learn the vocabulary and IDF from ``item_tags`` (``item_id, tag[, weight]``)."""
        tags = item_tags.assign(tag=item_tags["tag"].map(normalise_genre))
        if WEIGHT_COL not in tags.columns:
            tags = tags.assign(**{WEIGHT_COL: 1.0})
        tags = tags[tags["tag"] != ""]
        counts = tags.groupby("tag")[ITEM_COL].nunique()
        vocabulary = np.sort(counts[counts >= self.min_item_count].index.to_numpy(dtype=object))
        self.vocabulary = vocabulary
        self._genre_lookup = {g: i for i, g in enumerate(vocabulary)}
        rows = pd.Index(item_ids).get_indexer(tags[ITEM_COL].to_numpy())
        cols = pd.Index(vocabulary).get_indexer(tags["tag"].to_numpy())
        keep = (rows >= 0) & (cols >= 0)
        counts_matrix = sp.coo_matrix(
            (tags[WEIGHT_COL].to_numpy(dtype=np.float64)[keep], (rows[keep], cols[keep])),
            shape=(len(item_ids), len(vocabulary)),
        ).tocsr()
        transformer = TfidfTransformer(norm="l2", sublinear_tf=self.sublinear_tf)
        self.item_matrix = sp.csr_matrix(transformer.fit_transform(counts_matrix), dtype=np.float32)
        self.idf = transformer.idf_ if len(vocabulary) else np.array([], dtype=np.float64)
        return self

    @property
    def n_genres(self) -> int:
        return len(self.vocabulary)

    def profiles(self, user_items: sp.csr_matrix) -> sp.csr_matrix:
        """L2-normalised genre profiles of users (or rooms) given as item-weight rows.

        Play counts are log-damped, so one artist played a thousand times does not drown the
        rest of a listener's taste.
        """
        weights = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        weights.data = np.log1p(weights.data)
        return sp.csr_matrix(normalize(weights @ self.item_matrix), dtype=np.float32)

    def genre_vectors(self, genre_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Rows for free genre lists (favourite genres, room genres), IDF-weighted, L2-normalised.

        Genres outside the vocabulary are ignored.
        """
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for genres in genre_lists:
            cols = sorted(
                {
                    self._genre_lookup[g]
                    for g in (normalise_genre(x) for x in genres)
                    if g in self._genre_lookup
                }
            )
            indices.extend(cols)
            data.extend(float(self.idf[c]) for c in cols)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(genre_lists), self.n_genres),
        )
        return sp.csr_matrix(normalize(matrix), dtype=np.float32)

    def top_genres(
        self, profile: sp.spmatrix | np.ndarray, k: int = 3, columns: np.ndarray | None = None
    ) -> list[str]:
        """The ``k`` strongest genres of one profile row, strongest first.

        ``profile`` is a sparse row, a dense row, or (with ``columns``) the stored values of a
        sparse row and their genre columns.
        """
        if columns is not None:
            values = np.asarray(profile).ravel()
        elif isinstance(profile, sp.spmatrix | sp.sparray):
            # Only the stored entries: a profile touches few of the thousands of genres.
            row = sp.csr_matrix(profile)[:1]
            columns, values = row.indices, row.data
        else:
            values = np.asarray(profile).ravel()
            columns = np.arange(values.size)
        if not values.size:
            return []
        order = np.lexsort((columns, -values))[:k]
        return [str(self.vocabulary[columns[i]]) for i in order if values[i] > 0]

    def item_genres(self, item_index: int, k: int = 3) -> list[str]:
        """The ``k`` most characteristic genres of one item."""
        return self.top_genres(self.item_matrix[item_index], k)

    def state(self) -> dict[str, Any]:
        """Arrays for ``np.savez`` (no pickle)."""
        return {
            "vocabulary": self.vocabulary.astype(str),
            "idf": self.idf,
            "item_data": self.item_matrix.data,
            "item_indices": self.item_matrix.indices,
            "item_indptr": self.item_matrix.indptr,
            "item_shape": np.asarray(self.item_matrix.shape),
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> GenreSpace:
        space = cls()
        space.vocabulary = state["vocabulary"].astype(object)
        space.idf = state["idf"]
        space.item_matrix = sp.csr_matrix(
            (state["item_data"], state["item_indices"], state["item_indptr"]),
            shape=tuple(state["item_shape"]),
        )
        space._genre_lookup = {str(g): i for i, g in enumerate(space.vocabulary)}
        return space
