"""Offline evaluation: per-user random holdout and k folds, full-catalogue ranking metrics.

The protocol (docs/recommender.md): every user's items are shuffled with a fixed seed and
dealt into ``n_folds`` folds; in fold f the user's items in fold f are the test set and the
rest is training. Each model is fitted on the training matrix and ranks the *whole*
catalogue for every user with at least one test item and one training item (no sampled
negatives); items in the user's training set are excluded from the ranking. Metrics are
averaged over those users, then over folds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.features import ItemFeatures, require_features
from recommender.models.base import Recommender

DEFAULT_KS: tuple[int, ...] = (10, 20)
ModelFactory = Callable[[], Recommender]
Progress = Callable[[Iterable[Any], str, int], Iterable[Any]]


def _no_progress(iterable: Iterable[Any], description: str, total: int) -> Iterable[Any]:
    return iterable


# --- splits ----------------------------------------------------------------------------------


def _fold_of_each_entry(matrix: sp.csr_matrix, n_folds: int, seed: int) -> np.ndarray:
    """For every stored entry, its fold: a per-user random deal, round-robin after a shuffle.

    Dealing round-robin (not drawing a fold per entry) makes a user's folds differ in size by at
    most one, so every user with at least ``n_folds`` items is tested in every fold.
    """
    rng = np.random.default_rng(seed)
    folds = np.empty(matrix.nnz, dtype=np.int64)
    for user in range(matrix.shape[0]):
        start, stop = matrix.indptr[user], matrix.indptr[user + 1]
        n = stop - start
        if n:
            order = rng.permutation(n)
            # Offset each user's deal, so users with few items are not always tested in fold 0.
            folds[start + order] = (np.arange(n) + rng.integers(n_folds)) % n_folds
    return folds


def _split_by_mask(
    interactions: Interactions, test_mask: np.ndarray
) -> tuple[Interactions, Interactions]:
    matrix = interactions.matrix
    coo = matrix.tocoo()  # csr → coo keeps the stored order, so masks line up with .data

    def part(mask: np.ndarray) -> Interactions:
        return interactions.with_matrix(
            sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=matrix.shape)
        )

    return part(~test_mask), part(test_mask)


def kfold_splits(
    interactions: Interactions, n_folds: int = 5, seed: int = 0
) -> Iterator[tuple[Interactions, Interactions]]:
    """``(train, test)`` for each of ``n_folds`` per-user folds (see the module docstring)."""
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    folds = _fold_of_each_entry(interactions.matrix, n_folds, seed)
    for fold in range(n_folds):
        yield _split_by_mask(interactions, folds == fold)


def holdout_split(
    interactions: Interactions, test_fraction: float = 0.2, seed: int = 0
) -> tuple[Interactions, Interactions]:
    """One per-user random holdout: about ``test_fraction`` of each user's items go to test.

    Users with a single item keep it in training. The training matrix of this split is where
    hyper-parameter search carves its validation set from, never the test set.
    """
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be between 0 and 1")
    matrix = interactions.matrix
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(matrix.nnz, dtype=bool)
    for user in range(matrix.shape[0]):
        start, stop = matrix.indptr[user], matrix.indptr[user + 1]
        n = stop - start
        if n >= 2:
            n_test = min(n - 1, max(1, round(n * test_fraction)))
            test_mask[start + rng.choice(n, size=n_test, replace=False)] = True
    return _split_by_mask(interactions, test_mask)


# --- metrics ---------------------------------------------------------------------------------


def hits_matrix(recommended: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean ``(n_users, k)``: is ``recommended[u, r]`` in user u's relevant row?

    ``recommended`` holds item indices (-1 = no recommendation, never a hit).
    """
    relevant = sp.csr_matrix(relevant)
    hits = np.zeros(recommended.shape, dtype=bool)
    for u in range(recommended.shape[0]):
        row = relevant.indices[relevant.indptr[u] : relevant.indptr[u + 1]]
        hits[u] = np.isin(recommended[u], row) & (recommended[u] >= 0)
    return hits


def precision_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: relevant items among the top ``k`` / ``k``."""
    return hits[:, :k].sum(axis=1) / k


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: relevant items among the top ``k`` / all relevant items."""
    return hits[:, :k].sum(axis=1) / np.maximum(n_relevant, 1)


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: binary-relevance DCG@k (gain 1/log2(rank+1)) over the ideal DCG@k."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1)
    ideal_cutoff = np.minimum(n_relevant, k)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[ideal_cutoff]
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


def average_precision_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: mean of precision@i over the ranks i ≤ k that are hits, / min(relevant, k)."""
    top = hits[:, :k].astype(np.float64)
    precision_at_rank = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    denominator = np.minimum(n_relevant, k)
    total = (precision_at_rank * top).sum(axis=1)
    return np.divide(total, denominator, out=np.zeros_like(total), where=denominator > 0)


def catalogue_coverage(recommended: np.ndarray, n_items: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's top ``k``."""
    top = recommended[:, :k]
    return len(np.unique(top[top >= 0])) / n_items if n_items else 0.0


METRICS: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "map": average_precision_at_k,
}


def ranking_metrics(
    recommended: np.ndarray, test: sp.csr_matrix, n_items: int, ks: Sequence[int] = DEFAULT_KS
) -> dict[str, float]:
    """``precision@k``, ``recall@k``, ``ndcg@k``, ``map@k``, ``coverage@k`` for each k.

    ``recommended``: ``(n_users, ≥max(ks))`` ranked item indices; ``test``: the same users'
    relevant items as a CSR matrix (rows aligned with ``recommended``).
    """
    test = sp.csr_matrix(test)
    hits = hits_matrix(recommended[:, : max(ks)], test)
    n_relevant = np.diff(test.indptr)
    result: dict[str, float] = {}
    for k in ks:
        for name, metric in METRICS.items():
            result[f"{name}@{k}"] = float(metric(hits, n_relevant, k).mean())
        result[f"coverage@{k}"] = catalogue_coverage(recommended, n_items, k)
    return result


# --- running models --------------------------------------------------------------------------


def evaluable_users(train: Interactions, test: Interactions) -> np.ndarray:
    """Rows with at least one test item and one training item."""
    has_test = np.diff(test.matrix.indptr) > 0
    has_train = np.diff(train.matrix.indptr) > 0
    return np.flatnonzero(has_test & has_train)


def rank_users(model: Recommender, train: Interactions, users: np.ndarray, k: int) -> np.ndarray:
    """The fitted model's top-``k`` over all items for ``users``, training items excluded."""
    recommended, _ = model.recommend(train.matrix[users], users, k=k, exclude_seen=True)
    return recommended


def evaluate_model(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    features: ItemFeatures | None = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Fit ``model`` on ``train`` and measure it on ``test``: metrics plus ``fit_s``, ``users``.

    The model's side information is ``features.build(train)``: built from the training part
    only (a ready ``item_tags`` frame is refused, see :mod:`recommender.features`).
    """
    features = require_features(features)
    model.fit(train, None if features is None else features.build(train))
    users = evaluable_users(train, test)
    started = time.perf_counter()
    recommended = rank_users(model, train, users, max(ks))
    rank_s = time.perf_counter() - started
    result = ranking_metrics(recommended, test.matrix[users], train.n_items, ks)
    result.update({"fit_s": model.fit_seconds, "rank_s": rank_s, "users": float(len(users))})
    return result


def clone(model: Recommender) -> Recommender:
    """An unfitted copy with the same parameters."""
    return type(model)(**model.get_params())


def evaluate(
    models: Mapping[str, Recommender | ModelFactory],
    interactions: Interactions,
    features: ItemFeatures | None = None,
    n_folds: int = 5,
    seed: int = 0,
    ks: Sequence[int] = DEFAULT_KS,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Every model on every fold: one row per ``(model, fold)`` with every metric.

    ``models`` maps a label to a model (cloned unfitted for each fold) or to a factory.
    ``progress`` wraps the fold loop (e.g. ``lambda it, desc, total: tqdm(it, desc, total)``).
    Summarise with :func:`summarise`.
    """
    features = require_features(features)
    wrap = progress or _no_progress
    rows: list[dict[str, Any]] = []
    splits = kfold_splits(interactions, n_folds=n_folds, seed=seed)
    for fold, (train, test) in enumerate(wrap(splits, "folds", n_folds)):
        for label, spec in models.items():
            model = clone(spec) if isinstance(spec, Recommender) else spec()
            result = evaluate_model(model, train, test, features, ks)
            rows.append({"model": label, "fold": fold, **result})
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean over folds per model (the table to read), in the order models were given."""
    order = list(dict.fromkeys(results["model"]))
    numeric = results.drop(columns=["fold"]).groupby("model", sort=False).mean(numeric_only=True)
    return numeric.loc[order]


def per_user_metrics(
    model: Recommender, train: Interactions, test: Interactions, k: int = 10
) -> pd.DataFrame:
    """One row per evaluable user: training items (activity), test items, nDCG@k, recall@k.

    For plots of quality against user activity; ``model`` must already be fitted on ``train``.
    """
    users = evaluable_users(train, test)
    recommended = rank_users(model, train, users, k)
    relevant = test.matrix[users]
    hits = hits_matrix(recommended, relevant)
    n_relevant = np.diff(relevant.indptr)
    return pd.DataFrame(
        {
            "user_row": users,
            "train_items": np.diff(train.matrix.indptr)[users],
            "test_items": n_relevant,
            f"ndcg@{k}": ndcg_at_k(hits, n_relevant, k),
            f"recall@{k}": recall_at_k(hits, n_relevant, k),
        }
    )
