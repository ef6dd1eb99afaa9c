"""Hyper-parameter search on a validation split carved from the training data only."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.data import Interactions
from recommender.evaluation import DEFAULT_KS, Progress, _no_progress, evaluate_model, holdout_split
from recommender.features import ItemFeatures, require_features
from recommender.models import make_model
from recommender.models.base import Recommender


@dataclass(frozen=True)
class SearchResult:
    """The winning parameters, their validation score, and every trial (one row each)."""

    best_params: dict[str, Any]
    best_score: float
    metric: str
    trials: pd.DataFrame
    search_s: float = 0.0
    axes: Mapping[str, Sequence[Any]] | None = None  # the grid after widening

    @property
    def edges(self) -> list[str]:
        """Numeric parameters whose winner is still on the edge of its (widened) axis."""
        return edge_winners(self.best_params, self.axes or {})

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


def _numeric_axis(values: Sequence[Any]) -> bool:
    return len(values) >= 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def edge_winners(best_params: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]) -> list[str]:
    """The numeric parameters whose winning value is the smallest or largest of its axis."""
    edges = []
    for key, values in grid.items():
        if _numeric_axis(values) and best_params.get(key) in (min(values), max(values)):
            edges.append(key)
    return edges


def _beyond(values: Sequence[Any], winner: Any, bounds: tuple[float, float]) -> Any | None:
    """The next value past the edge ``winner`` sits on: the axis' own ratio (or step) again."""
    ordered = sorted(values)
    low, high = bounds
    if winner == ordered[-1]:
        previous, edge = ordered[-2], ordered[-1]
        sign = 1
    else:
        previous, edge = ordered[1], ordered[0]
        sign = -1
    value = edge * (edge / previous) if previous > 0 and edge > 0 else edge + (edge - previous)
    if isinstance(edge, int) and not isinstance(edge, bool):
        value = round(value)
        if value == edge:
            value = edge + sign
    if not low <= value <= high or value in values:
        return None
    return value


def search(
    model: str | Callable[..., Recommender],
    grid: Mapping[str, Sequence[Any]],
    train: Interactions,
    features: ItemFeatures | None = None,
    metric: str = "ndcg@10",
    validation_fraction: float = 0.2,
    seed: int = 0,
    max_trials: int | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    progress: Progress | None = None,
    n_splits: int = 1,
    widen: int = 0,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> SearchResult:
    """Grid (or, with ``max_trials``, seeded random) search for ``model``'s parameters.

    ``train`` is split once more per user, ``n_splits`` times (``validation_fraction``,
    seeds ``seed``, ``seed + 1``, ...); each trial is fitted on each remainder, scored on its
    validation items with full-catalogue ranking, and the scores are averaged: one split is
    noisy. The test data of the outer evaluation is never seen here (``features`` are built
    from each fit part). ``model`` is a registry name or a class/factory taking the
    parameters as keywords; ``fixed_params`` go to every trial.

    ``widen``: up to that many extra rounds in which every numeric parameter whose winner
    sits on the edge of its axis gets one more value beyond it (the axis' own ratio again,
    within ``bounds[name]``), tried with the other parameters at their best; the search
    stops early once every winner is interior. ``SearchResult.trials`` has every trial,
    ``search_s`` the wall time.
    """
    started = time.perf_counter()
    features = require_features(features)
    splits = [
        holdout_split(train, validation_fraction, seed + offset) for offset in range(n_splits)
    ]
    candidates = parameter_grid(grid)
    if max_trials is not None and max_trials < len(candidates):
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(candidates), size=max_trials, replace=False)
        candidates = [candidates[i] for i in sorted(picked)]
    wrap = progress or _no_progress
    rows: list[dict[str, Any]] = []
    fixed = dict(fixed_params or {})
    tried: list[dict[str, Any]] = []

    def run(batch: list[dict[str, Any]], label: str) -> None:
        for params in wrap(batch, label, len(batch)):
            if params in tried:
                continue
            all_params = {**fixed, **params}
            results = []
            for fit_part, validation in splits:
                instance = (
                    make_model(model, **all_params)
                    if isinstance(model, str)
                    else model(**all_params)
                )
                results.append(evaluate_model(instance, fit_part, validation, features, ks))
            mean = {key: float(np.mean([r[key] for r in results])) for key in results[0]}
            rows.append({**params, **mean})
            tried.append(params)

    run(candidates, f"search {model}")
    axes = {key: list(values) for key, values in grid.items()}
    limits = dict(bounds or {})
    for _ in range(widen):
        table = pd.DataFrame(rows)
        best_params = tried[int(table[metric].to_numpy().argmax())]
        extra: list[dict[str, Any]] = []
        for key in edge_winners(best_params, axes):
            value = _beyond(axes[key], best_params[key], limits.get(key, (0.0, float("inf"))))
            if value is None:
                continue
            axes[key].append(value)
            extra.append({**best_params, key: value})
        if not extra:
            break
        run(extra, f"widen {model}")
    table = pd.DataFrame(rows)
    if metric not in table.columns:
        raise ValueError(f"unknown metric {metric!r}; available: {sorted(table.columns)}")
    best = int(table[metric].to_numpy().argmax())
    return SearchResult(
        best_params={**fixed, **tried[best]},
        best_score=float(table[metric].iloc[best]),
        metric=metric,
        trials=table,
        search_s=time.perf_counter() - started,
        axes=axes,
    )


# Search spaces the benchmark, the CLI and the nightly pipeline use. Each trial is a full fit
# and a full-catalogue ranking of every validation user, so the grids are small and
# ``search(widen=...)`` extends an axis only when its winner sits on the edge.
DEFAULT_SPACES: dict[str, dict[str, list[Any]]] = {
    "ease": {"l2": [100.0, 300.0, 1000.0], "weighting": ["binary", "log"]},
    "edlae": {
        "l2": [10.0, 50.0, 200.0],
        "dropout": [0.3, 0.6, 0.9],
        "popularity_power": [0.0, 0.1, 0.2],
        "factors": [0, 64],
    },
    "rp3beta": {"alpha": [0.6, 0.8, 1.0], "beta": [0.2, 0.4, 0.6], "neighbours": [200]},
    "itemknn": {"neighbours": [100, 200, 400], "weighting": ["log", "bm25"]},
    "als": {
        "factors": [32, 64, 128],
        "alpha": [0.5, 1.0, 2.0],
        "regularization": [0.01, 0.1],
        "weighting": ["log", "bm25"],
    },
}
# Hard limits for widening (a weight cannot go below 0, an exponent past 2, ...).
BOUNDS: dict[str, tuple[float, float]] = {
    "l2": (1.0, 1e6),
    "alpha": (0.05, 2.0),
    "beta": (0.0, 1.0),
    "dropout": (0.0, 0.95),
    "popularity_power": (0.0, 1.0),
    "neighbours": (10, 3000),
    "factors": (8, 512),
    "regularization": (1e-4, 10.0),
    "content_weight": (0.0, 5.0),
    "cold_weight": (0.0, 10.0),
}
HYBRID_SPACE: dict[str, list[Any]] = {
    "content_weight": [0.05, 0.15, 0.4],
    "cold_weight": [0.5, 1.0, 2.0],
}
HYBRID_CF = ("ease", "edlae", "rp3beta", "als", "itemknn")


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

    @property
    def search_s(self) -> float:
        return sum(result.search_s for result in self.searches.values())


def select_model(
    train: Interactions,
    features: ItemFeatures | None = None,
    spaces: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
    metric: str = "ndcg@10",
    validation_fraction: float = 0.2,
    seed: int = 0,
    max_trials: int | None = 10,
    hybrid_space: Mapping[str, Sequence[Any]] | None = None,
    progress: Progress | None = None,
    n_splits: int = 2,
    widen: int = 2,
) -> SelectionResult:
    """Search every family in ``spaces``, then the hybrid on top of the best collaborative
    family (when ``features`` are given); return the best of all on ``metric``.

    Every search averages ``n_splits`` validation splits carved from ``train`` and widens
    edge winners up to ``widen`` rounds. Pass the training part of an outer split: its test
    part stays unseen (``features`` are built from each fit part only).
    """
    features = require_features(features)
    spaces = DEFAULT_SPACES if spaces is None else spaces
    hybrid_space = HYBRID_SPACE if hybrid_space is None else hybrid_space
    searches: dict[str, SearchResult] = {}
    common: dict[str, Any] = {
        "metric": metric,
        "validation_fraction": validation_fraction,
        "seed": seed,
        "progress": progress,
        "n_splits": n_splits,
        "widen": widen,
        "bounds": BOUNDS,
    }
    for family, grid in spaces.items():
        # Random trials are drawn per family with the same seed: reproducible.
        searches[family] = search(family, grid, train, features, max_trials=max_trials, **common)
    collaborative = [name for name in HYBRID_CF if name in searches]
    if features is not None and collaborative and hybrid_space:
        cf = max(collaborative, key=lambda name: searches[name].best_score)
        searches["hybrid"] = search(
            "hybrid",
            hybrid_space,
            train,
            features,
            fixed_params={"cf": cf, "cf_params": searches[cf].best_params},
            **common,
        )
    family = max(searches, key=lambda name: searches[name].best_score)
    winner = searches[family]
    return SelectionResult(family, winner.best_params, winner.best_score, searches)
