"""Interactions (who played what, how much) as a sparse matrix with its id mappings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    from recommender.features import ItemFeatures

USER_COL = "user_id"
ITEM_COL = "item_id"
WEIGHT_COL = "weight"


@dataclass(frozen=True)
class Interactions:
    """A users x items CSR matrix of non-negative weights (play counts) and the ids of its axes.

    Row ``i`` is the user ``user_ids[i]``, column ``j`` the item ``item_ids[j]``. Ids are
    whatever the source uses (UUID strings from our database, ints from HetRec); the matrix
    never stores a zero explicitly. Train/test splits share the id arrays, so an index means
    the same user or item in every split.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    _user_lookup: dict[Any, int] = field(init=False, repr=False, compare=False)
    _item_lookup: dict[Any, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        matrix = sp.csr_matrix(self.matrix, dtype=np.float32)
        matrix.eliminate_zeros()
        matrix.sort_indices()
        if matrix.shape != (len(self.user_ids), len(self.item_ids)):
            raise ValueError(
                f"matrix shape {matrix.shape} does not match "
                f"{len(self.user_ids)} users x {len(self.item_ids)} items"
            )
        if matrix.nnz and matrix.data.min() < 0:
            raise ValueError("interaction weights must be non-negative")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "_user_lookup", {u: i for i, u in enumerate(self.user_ids)})
        object.__setattr__(self, "_item_lookup", {v: j for j, v in enumerate(self.item_ids)})
        if len(self._user_lookup) != len(self.user_ids):
            raise ValueError("user_ids are not unique")
        if len(self._item_lookup) != len(self.item_ids):
            raise ValueError("item_ids are not unique")

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        user_col: str = USER_COL,
        item_col: str = ITEM_COL,
        weight_col: str | None = WEIGHT_COL,
        user_ids: Sequence[Any] | np.ndarray | None = None,
        item_ids: Sequence[Any] | np.ndarray | None = None,
    ) -> Interactions:
        """Build from a long DataFrame of ``(user, item[, weight])`` rows.

        Repeated ``(user, item)`` rows are summed, so a frame of single listening events
        (weight 1 each, or no weight column) gives play counts. ``user_ids`` / ``item_ids``
        fix the axes (e.g. the whole catalogue, so items nobody played yet still get a column
        for the content model); rows whose ids are not in them are dropped. Without them the
        axes are the sorted distinct ids of the frame.
        """
        users = frame[user_col].to_numpy()
        items = frame[item_col].to_numpy()
        if weight_col is not None and weight_col in frame.columns:
            weights = frame[weight_col].to_numpy(dtype=np.float64)
        else:
            weights = np.ones(len(frame), dtype=np.float64)
        user_axis = np.asarray(user_ids) if user_ids is not None else np.unique(users)
        item_axis = np.asarray(item_ids) if item_ids is not None else np.unique(items)
        rows = pd.Index(user_axis).get_indexer(users)
        cols = pd.Index(item_axis).get_indexer(items)
        keep = (rows >= 0) & (cols >= 0)
        matrix = sp.coo_matrix(
            (weights[keep], (rows[keep], cols[keep])),
            shape=(len(user_axis), len(item_axis)),
        ).tocsr()  # sums duplicates
        return cls(matrix=matrix, user_ids=user_axis, item_ids=item_axis)

    def to_frame(self) -> pd.DataFrame:
        """The long form: one ``user_id, item_id, weight`` row per stored entry."""
        coo = self.matrix.tocoo()
        return pd.DataFrame(
            {
                USER_COL: self.user_ids[coo.row],
                ITEM_COL: self.item_ids[coo.col],
                WEIGHT_COL: coo.data,
            }
        )

    def with_matrix(self, matrix: sp.spmatrix) -> Interactions:
        """The same axes with other weights (a split, a re-weighting)."""
        return Interactions(
            matrix=sp.csr_matrix(matrix), user_ids=self.user_ids, item_ids=self.item_ids
        )

    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    def user_index(self, ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Row index of each user id; -1 for ids this matrix does not know (new users)."""
        return np.array([self._user_lookup.get(u, -1) for u in ids], dtype=np.int64)

    def item_index(self, ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Column index of each item id; -1 for unknown ids."""
        return np.array([self._item_lookup.get(v, -1) for v in ids], dtype=np.int64)

    def rows_for(self, item_ids_per_user: Sequence[Sequence[Any]]) -> sp.csr_matrix:
        """Interaction rows (weight 1 per item) over this catalogue for users given as item lists.

        This is how a brand-new user, or a room's queue, is folded into a trained model:
        unknown item ids are ignored.
        """
        indptr = [0]
        indices: list[int] = []
        for item_list in item_ids_per_user:
            cols = sorted({int(c) for c in self.item_index(list(item_list)) if c >= 0})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix(
            (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(item_ids_per_user), self.n_items),
        )


@dataclass(frozen=True)
class Dataset:
    """Everything a recommender may learn from, keyed by the ids of ``interactions``.

    ``features``: how to build the items' ``item_id, tag, weight`` side information (genres,
    artists, listener tags) for a training matrix, :class:`recommender.ItemFeatures`; call
    ``features.build(train)`` with the training part of a split (the evaluation does), or
    :meth:`all_item_tags` for a model fitted on everything (the pipeline). ``item_names``:
    ``item_id → display name`` (artist or track title) for human reasons. ``friends``:
    ``user_id, friend_id`` rows (may be empty).
    """

    name: str
    interactions: Interactions
    features: ItemFeatures
    item_names: pd.Series
    friends: pd.DataFrame

    def all_item_tags(self) -> pd.DataFrame:
        """Side information built from *all* interactions: for fitting on everything, never
        for a split (pass ``features`` to the evaluation instead)."""
        return self.features.build(self.interactions)

    def item_name(self, item_id: Any) -> str:
        name = self.item_names.get(item_id)
        return str(name) if name is not None else str(item_id)


def empty_tags() -> pd.DataFrame:
    """An ``item_id, tag, weight`` frame with no rows (a catalogue without genres)."""
    return pd.DataFrame({ITEM_COL: [], "tag": [], WEIGHT_COL: []})
