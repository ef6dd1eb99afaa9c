"""Metric functions against hand-computed cases; splits; evaluate and search end to end."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender import (
    Dataset,
    Interactions,
    evaluate,
    holdout_split,
    kfold_splits,
    make_model,
    ranking_metrics,
    search,
    summarise,
)
from recommender.evaluation import (
    average_precision_at_k,
    catalogue_coverage,
    hits_matrix,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)
from recommender.models.content import ContentRecommender


def relevant_rows(rows: list[list[int]], n_items: int = 10) -> sp.csr_matrix:
    indptr = np.cumsum([0, *map(len, rows)])
    indices = [i for row in rows for i in row]
    return sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), n_items))


def test_metrics_of_one_ranking_by_hand() -> None:
    # ranked 0,1,2,3; relevant {1, 3, 5}: hits at ranks 2 and 4
    recommended = np.array([[0, 1, 2, 3]])
    relevant = relevant_rows([[1, 3, 5]])
    hits = hits_matrix(recommended, relevant)
    assert hits.tolist() == [[False, True, False, True]]
    n_rel = np.array([3])
    assert precision_at_k(hits, n_rel, 4)[0] == pytest.approx(2 / 4)
    assert recall_at_k(hits, n_rel, 4)[0] == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(hits, n_rel, 4)[0] == pytest.approx(dcg / ideal)
    # AP@4 = (P@2 + P@4) / min(3, 4) = (1/2 + 2/4) / 3
    assert average_precision_at_k(hits, n_rel, 4)[0] == pytest.approx(1 / 3)
    # at k = 2: one hit of two, ideal DCG over min(3, 2) = 2 places
    assert precision_at_k(hits, n_rel, 2)[0] == pytest.approx(0.5)
    assert ndcg_at_k(hits, n_rel, 2)[0] == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )
    assert average_precision_at_k(hits, n_rel, 2)[0] == pytest.approx(0.5 / 2)


def test_perfect_and_empty_rankings() -> None:
    relevant = relevant_rows([[4, 7], [2]])
    perfect = np.array([[7, 4, 0], [2, 0, 1]])
    result = ranking_metrics(perfect, relevant, n_items=10, ks=(3,))
    assert result["ndcg@3"] == pytest.approx(1.0)
    assert result["map@3"] == pytest.approx(1.0)
    assert result["recall@3"] == pytest.approx(1.0)
    assert result["precision@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    missing = np.array([[0, 1, -1], [-1, -1, -1]])  # padding (-1) is never a hit
    result = ranking_metrics(missing, relevant, n_items=10, ks=(3,))
    assert result["ndcg@3"] == 0.0
    assert result["precision@3"] == 0.0


def test_catalogue_coverage_counts_distinct_items_in_the_top_k() -> None:
    recommended = np.array([[0, 1, 9], [1, 2, 8]])
    assert catalogue_coverage(recommended, 10, 2) == pytest.approx(3 / 10)
    assert catalogue_coverage(recommended, 10, 3) == pytest.approx(5 / 10)
    assert catalogue_coverage(np.array([[-1, -1]]), 10, 2) == 0.0


def test_kfold_splits_partition_every_users_items(world: Dataset) -> None:
    matrix = world.interactions.matrix
    tests = []
    for train, test in kfold_splits(world.interactions, n_folds=3, seed=1):
        assert train.matrix.multiply(test.matrix).nnz == 0  # disjoint
        np.testing.assert_array_equal((train.matrix + test.matrix).toarray(), matrix.toarray())
        sizes = np.diff(test.matrix.indptr)
        assert sizes.max() - sizes.min() <= 1  # every user has 6 items: 2 per fold
        tests.append(test.matrix)
    assert sum(t.nnz for t in tests) == matrix.nnz
    np.testing.assert_array_equal(sum(t for t in tests).toarray(), matrix.toarray())


def test_splits_are_reproducible_with_a_seed_and_differ_across_seeds(world: Dataset) -> None:
    def first_test(seed: int) -> np.ndarray:
        return next(kfold_splits(world.interactions, 3, seed))[1].matrix.toarray()

    np.testing.assert_array_equal(first_test(5), first_test(5))
    assert not np.array_equal(first_test(5), first_test(6))
    a = holdout_split(world.interactions, 0.3, seed=2)[1].matrix.toarray()
    b = holdout_split(world.interactions, 0.3, seed=2)[1].matrix.toarray()
    np.testing.assert_array_equal(a, b)


def test_holdout_keeps_single_item_users_in_training() -> None:
    frame = pd.DataFrame({"user_id": [1, 2, 2, 2, 2], "item_id": [1, 1, 2, 3, 4]})
    train, test = holdout_split(Interactions.from_frame(frame), test_fraction=0.5, seed=0)
    assert train.matrix[0].nnz == 1
    assert test.matrix[0].nnz == 0
    assert train.matrix[1].nnz == 2
    assert test.matrix[1].nnz == 2


def test_evaluate_returns_a_row_per_model_and_fold(world: Dataset) -> None:
    results = evaluate(
        {
            "popularity": make_model("popularity"),
            "content": make_model("content", min_item_count=1),
        },
        world.interactions,
        world.features,
        n_folds=3,
        seed=0,
    )
    assert len(results) == 6
    assert set(results["fold"]) == {0, 1, 2}
    for column in ("precision@10", "recall@10", "ndcg@10", "map@10", "coverage@10", "ndcg@20"):
        assert results[column].between(0, 1).all()
    table = summarise(results)
    assert list(table.index) == ["popularity", "content"]
    # genres separate the two tastes perfectly here; popularity cannot
    assert table.loc["content", "ndcg@10"] > table.loc["popularity", "ndcg@10"]


def test_items_seen_in_training_are_never_counted_as_hits(world: Dataset) -> None:
    train, _ = holdout_split(world.interactions, 0.3, seed=0)
    model = make_model("popularity").fit(train)
    # Testing on the training items themselves: all of them are excluded from the ranking.
    from recommender.evaluation import evaluate_model

    result = evaluate_model(model, train, train, ks=(10,))
    assert result["users"] > 0
    assert result["precision@10"] == 0.0


def test_search_picks_the_best_trial_on_a_validation_split_of_train(world: Dataset) -> None:
    train, _test = holdout_split(world.interactions, 0.3, seed=0)
    result = search("itemknn", {"neighbours": [1, 5, 10]}, train, metric="ndcg@10", seed=0)
    assert len(result.trials) == 3
    assert result.best_params["neighbours"] in {1, 5, 10}
    assert result.best_score == pytest.approx(result.trials["ndcg@10"].max())
    # validation users are from train only: the search never ranks more users than train has
    assert (result.trials["users"] <= train.n_users).all()
    sampled = search("itemknn", {"neighbours": [1, 2, 3, 5, 10]}, train, max_trials=2, seed=3)
    assert len(sampled.trials) == 2
    assert (
        result.best_model("itemknn").get_params()["neighbours"] == result.best_params["neighbours"]
    )


def test_select_model_picks_the_family_that_wins_on_validation(world: Dataset) -> None:
    from recommender.tuning import select_model

    train, _ = holdout_split(world.interactions, 0.3, seed=0)
    selection = select_model(
        train,
        world.features,
        spaces={
            "itemknn": {"neighbours": [1, 10]},
            "als": {"factors": [2], "iterations": [30], "num_threads": [1]},
        },
        hybrid_space={"content_weight": [0.1, 0.5]},
        seed=0,
        n_splits=1,
        widen=0,
    )
    assert set(selection.searches) == {"itemknn", "als", "hybrid"}
    best = max(selection.searches.values(), key=lambda found: found.best_score)
    assert selection.score == best.best_score
    assert selection.searches[selection.model] is best
    hybrid = selection.searches["hybrid"].best_params
    cf = max(("itemknn", "als"), key=lambda name: selection.searches[name].best_score)
    assert hybrid["cf"] == cf
    assert hybrid["cf_params"] == selection.searches[cf].best_params
    assert selection.build().get_params()  # an unfitted model of the winning family


class _PeakAtEight(ContentRecommender):
    """Content scores blurred by noise that vanishes at ``x = 8``: validation peaks there."""

    def __init__(self, x: int = 1) -> None:
        super().__init__(min_item_count=1)
        self.x = x

    def get_params(self) -> dict[str, Any]:
        return {"x": self.x}

    def score(self, user_items: Any, user_rows: Any = None) -> Any:
        clean = super().score(user_items, user_rows)
        noise = np.random.default_rng(0).standard_normal(clean.shape)
        return clean + abs(np.log2(self.x) - 3) * noise


def test_search_widens_an_edge_winner_until_it_is_interior(world: Dataset) -> None:
    train, _ = holdout_split(world.interactions, 0.3, seed=0)
    result = search(_PeakAtEight, {"x": [1, 2]}, train, world.features, widen=4)
    assert sorted(result.trials["x"].tolist()) == [1, 2, 4, 8, 16]
    assert result.best_params == {"x": 8}
    assert result.edges == []  # 8 sits between 4 and 16
    assert result.search_s > 0


def test_search_averages_several_validation_splits(world: Dataset) -> None:
    train, _ = holdout_split(world.interactions, 0.3, seed=0)
    single = search("itemknn", {"neighbours": [4]}, train, seed=0, n_splits=1)
    other = search("itemknn", {"neighbours": [4]}, train, seed=1, n_splits=1)
    both = search("itemknn", {"neighbours": [4]}, train, seed=0, n_splits=2)
    assert both.best_score == pytest.approx((single.best_score + other.best_score) / 2)


def test_widening_respects_bounds_and_leaves_categorical_axes_alone() -> None:
    from recommender.tuning import _beyond, edge_winners

    assert _beyond([100.0, 300.0, 1000.0], 1000.0, (1.0, 1e6)) == pytest.approx(10000.0 / 3)
    assert _beyond([100.0, 300.0, 1000.0], 100.0, (1.0, 1e6)) == pytest.approx(100.0 / 3)
    assert _beyond([0.6, 1.0], 1.0, (0.05, 1.0)) is None  # alpha may not pass its bound
    assert _beyond([0, 1], 0, (0.0, 5.0)) is None  # already at the lower bound
    assert (
        edge_winners(
            {"weighting": "log", "l2": 300.0},
            {"weighting": ["log", "bm25"], "l2": [100.0, 300.0, 1000.0]},
        )
        == []
    )
    assert edge_winners({"l2": 1000.0}, {"l2": [100.0, 300.0, 1000.0]}) == ["l2"]
