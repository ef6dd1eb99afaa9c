"""Re-ranking for diversity: maximal marginal relevance over genre similarity, with a knob.

``mmr_rerank`` takes each user's candidate list (a model's top-``n``, best first) and picks
``k`` of them greedily: at every step the candidate maximising

    (1 - diversity) * relevance - diversity * (max genre similarity to what is already picked)

where relevance is the candidate's score rescaled to [0, 1] within the user's list. With
``diversity=0`` the model's order is kept; raising it trades accuracy for lists that span
more genres and, across users, more of the catalogue (coverage).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.models.base import Recommender


def mmr_rerank(
    candidates: np.ndarray,
    scores: np.ndarray,
    item_genres: sp.csr_matrix,
    k: int,
    diversity: float,
) -> np.ndarray:
    """``(n_users, k)`` item indices re-ranked from ``(n_users, n)`` candidates (-1 = none).

    ``item_genres``: ``(n_items, n_genres)`` rows (e.g. ``GenreSpace.item_matrix``); items
    without genres are similar to nothing.
    """
    if not 0.0 <= diversity <= 1.0:
        raise ValueError("diversity must be between 0 and 1")
    n_users, n = candidates.shape
    k = min(k, n)
    if diversity == 0.0 or n_users == 0:
        return candidates[:, :k].copy()
    valid = candidates >= 0
    finite = np.where(valid & np.isfinite(scores), scores, np.nan)
    low = np.nanmin(np.where(valid, finite, np.inf), axis=1, keepdims=True)
    high = np.nanmax(np.where(valid, finite, -np.inf), axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    relevance = np.where(valid, (np.nan_to_num(finite, nan=0.0) - low) / span, -np.inf)
    genres = sp.csr_matrix(normalize(item_genres), dtype=np.float32)
    safe = np.where(valid, candidates, 0)
    # Each user's candidate x candidate genre similarities, computed once.
    similarities = np.stack(
        [(genres[safe[u]] @ genres[safe[u]].T).toarray() for u in range(n_users)]
    ).astype(np.float32)
    users = np.arange(n_users)
    picked = np.full((n_users, k), -1, dtype=np.int64)
    max_similarity = np.zeros((n_users, n), dtype=np.float32)
    available = valid.copy()
    for step in range(k):
        value = (1.0 - diversity) * relevance - diversity * max_similarity
        value = np.where(available, value, -np.inf)
        choice = np.argmax(value, axis=1)
        ok = np.isfinite(value[users, choice])
        picked[ok, step] = candidates[ok, choice[ok]]
        available[users, choice] = False
        np.maximum(max_similarity, similarities[users, choice], out=max_similarity)
    return picked


def recommend_diverse(
    model: Recommender,
    user_items: sp.csr_matrix,
    user_rows: np.ndarray | None,
    item_genres: sp.csr_matrix,
    k: int = 10,
    diversity: float = 0.0,
    candidates: int = 100,
) -> np.ndarray:
    """The model's top-``candidates``, MMR-re-ranked down to ``k`` (see :func:`mmr_rerank`)."""
    indices, scores = model.recommend(user_items, user_rows, k=max(candidates, k))
    return mmr_rerank(indices, scores, item_genres, k, diversity)
