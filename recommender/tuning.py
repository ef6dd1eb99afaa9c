"""Hyper-parameter search on a validation split carved from the training data only."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.data import Interactions
from recommender.evaluation import DEFAULT_KS, Progress, _no_progress, evaluate_model, holdout_split
from recommender.models import make_model
from recommender.models.base import Recommender


@dataclass(frozen=True)
class SearchResult:
    """The winning parameters, their validation score, and every trial (one row each)."""

    best_params: dict[str, Any]
    best_score: float
    metric: str
    trials: pd.DataFrame

    def best_model(self, model: str | Callable[..., Recommender]) -> Recommender:
        """An unfitted model with the best parameters (refit it on all the training data)."""
        return (
            make_model(model, **self.best_params)
            if isinstance(model, str)
            else model(**self.best_params)
        )


def parameter_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def search(
    model: str | Callable[..., Recommender],
    grid: Mapping[str, Sequence[Any]],
    train: Interactions,
    item_tags: pd.DataFrame | None = None,
    metric: str = "ndcg@10",
    validation_fraction: float = 0.2,
    seed: int = 0,
    max_trials: int | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    progress: Progress | None = None,
) -> SearchResult:
    """Grid (or, with ``max_trials``, seeded random) search for ``model``'s parameters.

    ``train`` is split once more per user (``validation_fraction``, ``seed``); each trial is
    fitted on the remainder and scored on the validation items with full-catalogue ranking.
    The test data of the outer evaluation is never seen here. ``model`` is a registry name or
    a class/factory taking the parameters as keywords; ``fixed_params`` go to every trial.
    """
    fit_part, validation = holdout_split(train, validation_fraction, seed)
    candidates = parameter_grid(grid)
    if max_trials is not None and max_trials < len(candidates):
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(candidates), size=max_trials, replace=False)
        candidates = [candidates[i] for i in sorted(picked)]
    wrap = progress or _no_progress
    rows: list[dict[str, Any]] = []
    fixed = dict(fixed_params or {})
    trials: Iterable[dict[str, Any]] = wrap(candidates, f"search {model}", len(candidates))
    for params in trials:
        all_params = {**fixed, **params}
        instance = (
            make_model(model, **all_params) if isinstance(model, str) else model(**all_params)
        )
        result = evaluate_model(instance, fit_part, validation, item_tags, ks)
        rows.append({**params, **result})
    table = pd.DataFrame(rows)
    if metric not in table.columns:
        raise ValueError(f"unknown metric {metric!r}; available: {sorted(table.columns)}")
    best = int(table[metric].to_numpy().argmax())
    return SearchResult(
        best_params={**fixed, **candidates[best]},
        best_score=float(table[metric].iloc[best]),
        metric=metric,
        trials=table,
    )


# Search spaces the benchmark, the CLI and the nightly pipeline use. Small on purpose: each
# trial is a full fit and a full-catalogue ranking of every validation user.
DEFAULT_SPACES: dict[str, dict[str, list[Any]]] = {
    "als": {
        "factors": [32, 64, 128],
        "alpha": [0.5, 1.0, 2.0],
        "regularization": [0.01, 0.1],
        "weighting": ["log", "bm25"],
    },
    "itemknn": {"neighbours": [50, 100, 200, 400], "weighting": ["log", "bm25"]},
}


@dataclass(frozen=True)
class SelectionResult:
    """The family and parameters that won on validation, and each family's own search."""

    model: str
    params: dict[str, Any]
    score: float
    searches: dict[str, SearchResult]

    def build(self) -> Recommender:
        """The unfitted winner, to refit on all the training data."""
        return make_model(self.model, **self.params)


def select_model(
    train: Interactions,
    item_tags: pd.DataFrame | None = None,
    spaces: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
    metric: str = "ndcg@10",
    validation_fraction: float = 0.2,
    seed: int = 0,
    max_trials: int | None = 10,
    hybrid_content_weights: Sequence[float] = (0.1, 0.3),
    progress: Progress | None = None,
) -> SelectionResult:
    """Search every family in ``spaces`` on one validation split of ``train``, then try the
    hybrid on top of the best ALS parameters with each of ``hybrid_content_weights`` (when
    ``item_tags`` are given); return the best of all on ``metric``.

    Everything is decided on the validation split carved from ``train``: pass the training
    part of an outer split, and its test part stays unseen.
    """
    spaces = DEFAULT_SPACES if spaces is None else spaces
    searches: dict[str, SearchResult] = {}
    for family, grid in spaces.items():
        # Random trials are drawn per family with the same seed: reproducible.
        searches[family] = search(
            family,
            grid,
            train,
            item_tags,
            metric=metric,
            validation_fraction=validation_fraction,
            seed=seed,
            max_trials=max_trials,
            progress=progress,
        )
    if item_tags is not None and "als" in searches and hybrid_content_weights:
        searches["hybrid"] = search(
            "hybrid",
            {"content_weight": list(hybrid_content_weights)},
            train,
            item_tags,
            metric=metric,
            validation_fraction=validation_fraction,
            seed=seed,
            fixed_params={"cf": "als", "cf_params": searches["als"].best_params},
            progress=progress,
        )
    family = max(searches, key=lambda name: searches[name].best_score)
    winner = searches[family]
    return SelectionResult(family, winner.best_params, winner.best_score, searches)
