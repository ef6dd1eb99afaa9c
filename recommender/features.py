"""Item side information (tags, genres, artists) built from the training split only.

Side information is leak-free *by construction*: a model never receives an ``item_tags``
frame that was computed before the split. The evaluation, the tuning and the training
pipeline hold an :class:`ItemFeatures` (a recipe, not a table) and call
``features.build(train)`` once per training matrix; what it returns can only contain

- **catalogue tags** (``static``): facts about an item that do not come from the listeners
  whose plays are predicted (a track's credited artist, the genres the catalogue files it
  under), and
- **listener labels** (``events``: ``user_id, item_id, tag``) whose ``(user, item)`` pair is
  either in ``train`` or outside the data set's interactions altogether (``universe``). A
  label someone put on an item they played in a held-out pair is therefore never used,
  whatever split the caller makes: a held-out pair is in the universe and not in ``train``.

The evaluation functions (:func:`recommender.evaluate`, :func:`recommender.evaluate_model`,
:func:`recommender.search`) accept only an :class:`ItemFeatures`, never a ready frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import ITEM_COL, USER_COL, WEIGHT_COL, Interactions, empty_tags
from recommender.genres import normalise_genre

TAG_COL = "tag"


def _normalise_tags(frame: pd.DataFrame) -> pd.DataFrame:
    tags = frame.rename(columns={"genre": TAG_COL})
    if WEIGHT_COL not in tags.columns:
        tags = tags.assign(**{WEIGHT_COL: 1.0})
    tags = tags.assign(
        **{
            TAG_COL: tags[TAG_COL].map(normalise_genre),
            WEIGHT_COL: tags[WEIGHT_COL].fillna(1.0).astype(np.float64),
        }
    )
    return tags[(tags[TAG_COL] != "") & (tags[WEIGHT_COL] > 0)]


def _pair_keys(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Whether each ``(row, col)`` pair is a stored entry of ``matrix`` (row/col -1: no)."""
    matrix = sp.csr_matrix(matrix)
    known = (rows >= 0) & (cols >= 0)
    out = np.zeros(len(rows), dtype=bool)
    if not known.any():
        return out
    n_cols = np.int64(matrix.shape[1])
    stored = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    stored_keys = stored * n_cols + matrix.indices.astype(np.int64)
    keys = rows[known].astype(np.int64) * n_cols + cols[known].astype(np.int64)
    out[known] = np.isin(keys, stored_keys)
    return out


@dataclass(frozen=True)
class ItemFeatures:
    """How to build ``item_id, tag, weight`` side information for a training matrix.

    ``static``: catalogue tags (``item_id, tag[, weight]``), used as they are.
    ``events``: listener labels (``user_id, item_id, tag[, weight]``), one row per label.
    ``universe``: the data set's interactions; required with ``events`` (a label on a pair
    of the universe is used only when that pair is in the training matrix).
    """

    static: pd.DataFrame = field(default_factory=empty_tags)
    events: pd.DataFrame | None = None
    universe: Interactions | None = None

    def __post_init__(self) -> None:
        if self.events is not None and self.universe is None:
            raise ValueError("listener tag events need the universe of interactions they label")

    @classmethod
    def none(cls) -> ItemFeatures:
        """No side information at all."""
        return cls()

    @classmethod
    def catalogue(cls, item_tags: pd.DataFrame | None) -> ItemFeatures:
        """Only catalogue tags (a track's genres and artist from the catalogue)."""
        if item_tags is None or not len(item_tags):
            return cls()
        return cls(static=_normalise_tags(item_tags))

    def build(self, train: Interactions) -> pd.DataFrame:
        """``item_id, tag, weight`` for the items of ``train``, from what ``train`` may see.

        Weights of the same ``(item, tag)`` are summed (a listener label counts 1 unless
        its row has a weight).
        """
        parts = [self.static] if len(self.static) else []
        if self.events is not None and len(self.events):
            parts.append(self._allowed_events(train))
        if not parts:
            return empty_tags()
        tags = pd.concat(parts, ignore_index=True)
        tags = tags[tags[ITEM_COL].isin(train.item_ids)]
        if not len(tags):
            return empty_tags()
        return tags.groupby([ITEM_COL, TAG_COL], as_index=False, sort=True)[WEIGHT_COL].sum()

    def _allowed_events(self, train: Interactions) -> pd.DataFrame:
        assert self.events is not None
        assert self.universe is not None
        universe = self.universe
        if train.matrix.shape != universe.matrix.shape or not (
            np.array_equal(train.user_ids, universe.user_ids)
            and np.array_equal(train.item_ids, universe.item_ids)
        ):
            raise ValueError("the training matrix must share the axes of the feature universe")
        events = _normalise_tags(self.events)
        rows = universe.user_index(events[USER_COL].to_numpy())
        cols = universe.item_index(events[ITEM_COL].to_numpy())
        in_universe = _pair_keys(universe.matrix, rows, cols)
        in_train = _pair_keys(train.matrix, rows, cols)
        allowed = ~in_universe | in_train
        return events.loc[allowed, [ITEM_COL, TAG_COL, WEIGHT_COL]]


def require_features(features: object) -> ItemFeatures | None:
    """Refuse a ready ``item_tags`` frame where an :class:`ItemFeatures` recipe is expected."""
    if features is None or isinstance(features, ItemFeatures):
        return features
    raise TypeError(
        "pass an ItemFeatures (built per training split), not a ready item_tags frame: "
        "tags computed before the split can leak held-out pairs into the model"
    )
