"""Bulk answers for publishing: every user's top-K as a long DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.data import Interactions
from recommender.models.base import Recommender


def recommend_all(
    model: Recommender, interactions: Interactions, k: int = 50, batch_size: int = 512
) -> pd.DataFrame:
    """``user_id, item_id, score, rank`` (rank 1 = best) for every user with at least one play.

    ``interactions`` must be the matrix the model was fitted on (same axes); played items are
    excluded. This is what the pipeline writes to Redis as each user's track scores.
    """
    matrix = interactions.matrix
    users = np.flatnonzero(np.diff(matrix.indptr) > 0)
    indices, scores = model.recommend(matrix[users], users, k=k, batch_size=batch_size)
    user_col = np.repeat(interactions.user_ids[users], k)
    ranks = np.tile(np.arange(1, k + 1), len(users))
    flat_idx = indices.ravel()
    keep = flat_idx >= 0
    return pd.DataFrame(
        {
            "user_id": user_col[keep],
            "item_id": interactions.item_ids[flat_idx[keep]],
            "score": scores.ravel()[keep],
            "rank": ranks[keep],
        }
    )
