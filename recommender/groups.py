"""Group recommendations: one ranking for the people in a room, from each member's scores.

Each member's scores are first put on a common scale (min-max within the member's own
candidates, so a heavy listener does not outvote the others), then aggregated per item:

- ``average``: the mean satisfaction (best for the group as a whole);
- ``least_misery``: the minimum (nobody in the room hates the next track);
- ``blend``: ``(1 - misery_weight) * average + misery_weight * minimum``.

``evaluate_groups`` simulates rooms from a friendship graph (HetRec ``user_friends``): each
group is a listener and some of their friends; the group's top-k is scored against each
member's held-out items (per-member nDCG@k, averaged, and the least satisfied member's).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.evaluation import hits_matrix, ndcg_at_k
from recommender.models.base import Recommender

Strategy = Literal["average", "least_misery", "blend"]
STRATEGIES: tuple[Strategy, ...] = ("average", "least_misery", "blend")


def rescale(scores: np.ndarray) -> np.ndarray:
    """Each row min-max scaled to [0, 1] over its finite entries; non-finite entries -> 0."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    out = np.where(finite, (scores - low) / span, 0.0)
    return np.where(np.isfinite(out), out, 0.0)


def aggregate(
    member_scores: np.ndarray, strategy: Strategy = "blend", misery_weight: float = 0.5
) -> np.ndarray:
    """``(n_items,)`` group scores from ``(n_members, n_items)`` member scores."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    if not 0.0 <= misery_weight <= 1.0:
        raise ValueError("misery_weight must be between 0 and 1")
    scaled = rescale(np.atleast_2d(member_scores))
    if strategy == "average":
        return scaled.mean(axis=0)
    if strategy == "least_misery":
        return scaled.min(axis=0)
    return (1.0 - misery_weight) * scaled.mean(axis=0) + misery_weight * scaled.min(axis=0)


def group_top_k(
    model: Recommender,
    member_items: sp.csr_matrix,
    member_rows: np.ndarray | None,
    k: int = 10,
    strategy: Strategy = "blend",
    misery_weight: float = 0.5,
) -> np.ndarray:
    """The group's top-``k`` item indices; items any member already has are left out."""
    member_items = sp.csr_matrix(member_items)
    group = aggregate(model.score(member_items, member_rows), strategy, misery_weight)
    group[np.unique(member_items.indices)] = -np.inf
    k = min(k, int(np.isfinite(group).sum()))
    top = np.argpartition(-group, k - 1)[:k] if k > 0 else np.zeros(0, dtype=np.int64)
    return top[np.argsort(-group[top], kind="stable")]


def friend_groups(
    interactions: Interactions,
    friends: pd.DataFrame,
    size: int = 4,
    n_groups: int = 300,
    seed: int = 0,
) -> list[np.ndarray]:
    """Up to ``n_groups`` rooms of ``size`` user rows: a listener and ``size - 1`` friends."""
    rng = np.random.default_rng(seed)
    rows = interactions.user_index(friends["user_id"].to_numpy())
    cols = interactions.user_index(friends["friend_id"].to_numpy())
    keep = (rows >= 0) & (cols >= 0)
    n = interactions.n_users
    graph = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n, n)
    ).tocsr()
    graph = graph.maximum(graph.T).tocsr()
    hosts = np.flatnonzero(np.diff(graph.indptr) >= size - 1)
    groups = []
    for host in rng.permutation(hosts)[:n_groups]:
        mates = graph.indices[graph.indptr[host] : graph.indptr[host + 1]]
        groups.append(np.concatenate([[host], rng.choice(mates, size - 1, replace=False)]))
    return groups


def evaluate_groups(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    groups: list[np.ndarray],
    k: int = 10,
    misery_weight: float = 0.5,
) -> pd.DataFrame:
    """Per strategy: mean member nDCG@k of the group's list, and the worst member's (mean
    over groups). ``model`` must be fitted on ``train``."""
    out = []
    for strategy in STRATEGIES:
        mean_scores, worst_scores = [], []
        for members in groups:
            top = group_top_k(model, train.matrix[members], members, k, strategy, misery_weight)
            padded = np.full((len(members), k), -1, dtype=np.int64)
            padded[:, : len(top)] = top
            relevant = sp.csr_matrix(test.matrix[members])
            n_relevant = np.diff(relevant.indptr)
            if not n_relevant.any():
                continue
            ndcg = ndcg_at_k(hits_matrix(padded, relevant), n_relevant, k)[n_relevant > 0]
            mean_scores.append(float(ndcg.mean()))
            worst_scores.append(float(ndcg.min()))
        out.append(
            {
                "strategy": strategy,
                f"member ndcg@{k}": float(np.mean(mean_scores)) if mean_scores else 0.0,
                f"worst member ndcg@{k}": float(np.mean(worst_scores)) if worst_scores else 0.0,
                "groups": len(mean_scores),
            }
        )
    return pd.DataFrame(out).set_index("strategy")
