"""One behaviour suite, run against every model on the tiny synthetic world."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import (
    MODELS,
    Dataset,
    EASERecommender,
    EDLAERecommender,
    HybridRecommender,
    Interactions,
    Recommender,
    load_model,
    make_model,
)
from recommender.models.base import standardise_rows
from tests.recommender.conftest import COLD_JAZZ_ITEM, JAZZ, ROCK

# Small but real settings for a world of two tastes: ALS gets two factors (more lets it
# memorise every 20 x 21 row instead of learning the two clusters).
PARAMS: dict[str, dict] = {
    "popularity": {},
    "itemknn": {"neighbours": 10},
    "bpr": {"factors": 8, "iterations": 100, "learning_rate": 0.05, "num_threads": 1},
    "als": {"factors": 2, "iterations": 30, "num_threads": 1},
    "ease": {"l2": 2.0},
    "edlae": {"l2": 1.0, "dropout": 0.3, "popularity_power": 0.2},
    "rp3beta": {"alpha": 1.0, "beta": 0.3, "neighbours": 10},
    "content": {"min_item_count": 1},
    "hybrid": {"cf_params": {"factors": 2, "iterations": 30, "num_threads": 1}},
}
PERSONALISED = [name for name in MODELS if name != "popularity"]


def fitted(name: str, world: Dataset) -> Recommender:
    return make_model(name, **PARAMS[name]).fit(world.interactions, world.all_item_tags())


def test_every_registered_model_is_in_the_suite() -> None:
    assert set(PARAMS) == set(MODELS)


@pytest.mark.parametrize("name", list(MODELS))
def test_recommend_ranks_unseen_items_best_first(name: str, world: Dataset) -> None:
    model = fitted(name, world)
    matrix = world.interactions.matrix
    users = np.arange(matrix.shape[0])
    indices, scores = model.recommend(matrix, users, k=5)
    assert indices.shape == scores.shape == (20, 5)
    assert ((indices >= 0) & (indices < world.interactions.n_items)).all()
    for user in users:
        seen = set(matrix[user].indices)
        assert not seen & set(indices[user])
        assert len(set(indices[user])) == 5
        assert (np.diff(scores[user]) <= 1e-6).all()


@pytest.mark.parametrize("name", PERSONALISED)
def test_personalised_models_recommend_from_the_users_own_taste(name: str, world: Dataset) -> None:
    model = fitted(name, world)
    matrix = world.interactions.matrix
    indices, _ = model.recommend(matrix, np.arange(20), k=3)
    for user in range(20):
        cluster = set(ROCK) if user < 10 else set(JAZZ) | {COLD_JAZZ_ITEM}
        assert set(indices[user]) <= cluster, (user, indices[user])


def test_popularity_gives_everybody_the_most_played_items(world: Dataset) -> None:
    model = fitted("popularity", world)
    empty = sp.csr_matrix((2, world.interactions.n_items), dtype=np.float32)
    indices, _ = model.recommend(empty, None, k=2)
    # items 0 and 10 are played by all ten users of their cluster
    assert set(indices[0]) == {0, 10}
    assert (indices[0] == indices[1]).all()


@pytest.mark.parametrize("name", PERSONALISED)
def test_new_users_are_folded_in_from_their_plays(name: str, world: Dataset) -> None:
    model = fitted(name, world)
    newcomer = world.interactions.rows_for([["i11", "i12", "i13"], ["i1", "i2", "i3"]])
    indices, _ = model.recommend(newcomer, np.array([-1, -1]), k=3)
    assert set(indices[0]) <= set(JAZZ) | {COLD_JAZZ_ITEM}
    assert set(indices[1]) <= set(ROCK)


@pytest.mark.parametrize("name", list(MODELS))
def test_save_and_load_give_the_same_scores(name: str, world: Dataset, tmp_path: Path) -> None:
    model = fitted(name, world)
    path = tmp_path / f"{name}.npz"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert list(loaded.item_ids) == list(model.item_ids)
    rows = world.interactions.matrix[:4]
    np.testing.assert_allclose(
        loaded.score(rows, np.arange(4)), model.score(rows, np.arange(4)), rtol=1e-5, atol=1e-6
    )
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert "header" in archive.files


@pytest.mark.parametrize("name", list(MODELS))
def test_fitting_twice_with_the_same_seed_gives_the_same_scores(name: str, world: Dataset) -> None:
    rows = world.interactions.matrix
    first = fitted(name, world).score(rows, np.arange(20))
    second = fitted(name, world).score(rows, np.arange(20))
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_recommend_pads_when_the_catalogue_runs_out(name: str, world: Dataset) -> None:
    model = fitted(name, world)
    rows = world.interactions.matrix[:1]
    indices, scores = model.recommend(rows, np.array([0]), k=30)
    unseen = world.interactions.n_items - rows.nnz
    assert (indices[0, :unseen] >= 0).all()
    assert (indices[0, unseen:] == -1).all()
    assert np.isneginf(scores[0, unseen:]).all()


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_factor_models_score_is_user_vectors_dot_item_vectors(name: str, world: Dataset) -> None:
    model = fitted(name, world)
    rows = world.interactions.matrix
    for user_rows in (np.arange(20), np.full(20, -1)):  # trained and folded-in
        vectors = model.user_vectors(rows, user_rows)
        items = model.item_vectors()
        assert vectors is not None
        assert items is not None
        expected = model.score(rows, user_rows)
        np.testing.assert_allclose(vectors @ items.T, expected, rtol=1e-4, atol=1e-6)


def test_als_fold_in_reproduces_the_trained_user_factors(world: Dataset) -> None:
    model = fitted("als", world)
    rows = world.interactions.matrix
    trained = model.user_vectors(rows, np.arange(20))
    folded = model.user_vectors(rows, np.full(20, -1))
    assert trained is not None
    assert folded is not None
    # Fold-in solves the user half-step exactly; implicit's stored factors come from a
    # conjugate-gradient half-step taken before the last item update, so they differ slightly.
    cosine = (folded * trained).sum(axis=1) / (
        np.linalg.norm(folded, axis=1) * np.linalg.norm(trained, axis=1)
    )
    assert (cosine > 0.98).all(), cosine


def test_content_model_reaches_items_nobody_has_played(world: Dataset) -> None:
    model = fitted("content", world)
    jazz_fan = world.interactions.rows_for([["i10", "i11"]])
    indices, _ = model.recommend(jazz_fan, None, k=9)
    assert COLD_JAZZ_ITEM in indices[0]


def test_hybrid_serves_a_user_without_plays_by_genres_and_popularity(world: Dataset) -> None:
    model = fitted("hybrid", world)
    assert isinstance(model, HybridRecommender)
    nobody = sp.csr_matrix((1, world.interactions.n_items), dtype=np.float32)
    indices, scores = model.recommend(nobody, np.array([-1]), k=2)
    assert np.isfinite(scores).all()
    assert set(indices[0]) == {0, 10}  # the most popular items, not arbitrary ones


def test_hybrid_lets_cold_items_in_through_genres(world: Dataset) -> None:
    model = fitted("hybrid", world)
    full = model.score(world.interactions.matrix, np.arange(20))
    jazz_users, rock_users = full[10:], full[:10]
    assert (jazz_users[:, COLD_JAZZ_ITEM] > rock_users[:, COLD_JAZZ_ITEM].max()).all()


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        make_model("magic")


def test_keep_top_k_per_row_keeps_each_rows_largest_entries() -> None:
    from recommender.models.baselines import keep_top_k_per_row

    matrix = sp.csr_matrix(np.array([[0.1, 0.9, 0.5, 0.0], [0.3, 0.0, 0.3, 0.7], [0, 0, 0, 0.2]]))
    kept = keep_top_k_per_row(matrix, 2).toarray()
    expected = np.array([[0, 0.9, 0.5, 0], [0.3, 0, 0, 0.7], [0, 0, 0, 0.2]], dtype=np.float32)
    np.testing.assert_array_equal(kept, expected)  # the tie 0.3/0.3 keeps the lower column


def _random_plays(n_users: int, n_items: int, seed: int) -> Interactions:
    matrix = sp.random(n_users, n_items, density=0.25, random_state=seed, format="csr")
    matrix.data = np.ceil(matrix.data * 20)
    return Interactions(matrix, np.arange(n_users), np.arange(n_items))


def _ease_reference(plays: Interactions, l2: float) -> np.ndarray:
    x = (plays.matrix.toarray() > 0).astype(np.float64)
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return x @ b


@pytest.mark.parametrize("shape", [(60, 25), (25, 60)])
def test_ease_primal_and_dual_both_give_the_closed_form_scores(shape: tuple[int, int]) -> None:
    plays = _random_plays(*shape, seed=3)
    expected = _ease_reference(plays, l2=4.0)
    for solver in ("primal", "dual", "auto"):
        model = make_model("ease", l2=4.0, neighbours=0, solver=solver).fit(plays)
        np.testing.assert_allclose(model.score(plays.matrix), expected, atol=1e-4)
    auto = make_model("ease", l2=4.0).fit(plays)
    assert isinstance(auto, EASERecommender)
    assert auto.is_dual == (shape[1] > shape[0])  # the smaller side is inverted


def _edlae_reference(plays: Interactions, l2: float, dropout: float, power: float) -> np.ndarray:
    x = (plays.matrix.toarray() > 0).astype(np.float64)
    gram = x.T @ x
    p = np.linalg.inv(gram + np.diag(l2 + dropout / (1 - dropout) * np.diag(gram)))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    listeners = np.maximum((x > 0).sum(axis=0), 1)
    return (x @ b) / listeners[None, :] ** power


@pytest.mark.parametrize("shape", [(60, 25), (25, 60)])
def test_edlae_primal_and_dual_both_give_the_closed_form_scores(shape: tuple[int, int]) -> None:
    plays = _random_plays(*shape, seed=4)
    expected = _edlae_reference(plays, l2=2.0, dropout=0.6, power=0.4)
    for solver in ("primal", "dual"):
        model = make_model(
            "edlae", l2=2.0, dropout=0.6, popularity_power=0.4, neighbours=0, solver=solver
        ).fit(plays)
        np.testing.assert_allclose(model.score(plays.matrix), expected, atol=1e-4)
    # without dropout or discount it is EASE^R
    plain = make_model("edlae", l2=4.0, dropout=0.0, neighbours=0).fit(plays)
    np.testing.assert_allclose(plain.score(plays.matrix), _ease_reference(plays, 4.0), atol=1e-4)
    with pytest.raises(ValueError, match="dropout"):
        make_model("edlae", dropout=1.0)


def test_edlae_low_rank_term_is_puresvd_on_rarity_scaled_plays() -> None:
    plays = _random_plays(40, 30, seed=7)
    x = (plays.matrix.toarray() > 0).astype(np.float64)
    scaled = x / np.maximum(x.sum(axis=0), 1)[None, :] ** 0.25
    v = np.linalg.svd(scaled)[2][:5].T
    low_rank = scaled @ v @ v.T
    model = make_model("edlae", factors=5, factor_weight=1.0).fit(plays)
    np.testing.assert_allclose(model.score(plays.matrix), standardise_rows(low_rank), atol=1e-4)
    half = make_model("edlae", l2=2.0, dropout=0.6, factors=5, factor_weight=0.5).fit(plays)
    alone = _edlae_reference(plays, l2=2.0, dropout=0.6, power=0.0)
    expected = 0.5 * standardise_rows(alone) + 0.5 * standardise_rows(low_rank)
    np.testing.assert_allclose(half.score(plays.matrix), expected, atol=1e-4)


def test_edlae_saved_in_either_form_scores_the_same(tmp_path: Path) -> None:
    for shape in ((60, 25), (25, 60)):
        plays = _random_plays(*shape, seed=6)
        model = make_model(
            "edlae", l2=2.0, dropout=0.5, popularity_power=0.3, factors=4, factor_weight=0.3
        ).fit(plays)
        model.save(tmp_path / "edlae.npz")
        loaded = load_model(tmp_path / "edlae.npz")
        assert isinstance(loaded, EDLAERecommender)
        assert loaded.is_dual == (shape[1] > shape[0])
        np.testing.assert_array_equal(loaded.score(plays.matrix), model.score(plays.matrix))


def test_ease_primal_keeps_only_each_items_strongest_weights() -> None:
    plays = _random_plays(80, 40, seed=5)
    model = make_model("ease", l2=4.0, neighbours=5, solver="primal").fit(plays)
    assert isinstance(model, EASERecommender)
    assert np.diff(model.similarity.indptr).max() <= 5
    full = make_model("ease", l2=4.0, neighbours=0, solver="primal").fit(plays)
    assert isinstance(full, EASERecommender)
    dense = full.similarity.toarray()
    for item in range(5):
        kept = set(model.similarity[item].indices.tolist())
        assert kept == set(np.argsort(-dense[item], kind="stable")[:5].tolist())


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("itemknn", {"neighbours": 10, "weighting": "bm25"}),
        ("als", {"factors": 2, "iterations": 10, "num_threads": 1, "weighting": "bm25"}),
        ("ease", {"l2": 2.0, "weighting": "bm25"}),
        ("ease", {"l2": 2.0, "solver": "primal", "weighting": "log"}),
        ("edlae", {"l2": 2.0, "dropout": 0.5, "popularity_power": 0.3, "weighting": "bm25"}),
        ("edlae", {"l2": 2.0, "dropout": 0.5, "solver": "primal", "weighting": "log"}),
        ("edlae", {"l2": 2.0, "dropout": 0.5, "factors": 3, "factor_weight": 0.4}),
        ("rp3beta", {"neighbours": 10}),
        ("hybrid", {"cf": "als", "cf_params": {"factors": 2, "num_threads": 1}}),
        ("hybrid", {"cf": "ease", "cf_params": {"l2": 2.0, "weighting": "bm25"}}),
    ],
)
def test_a_user_gets_the_same_ranking_alone_or_in_any_batch(
    name: str, params: dict, world: Dataset
) -> None:
    model = make_model(name, **params).fit(world.interactions, world.all_item_tags())
    matrix = world.interactions.matrix
    everyone, _ = model.recommend(matrix, None, k=10)  # folded in, one batch of 20
    for user in range(matrix.shape[0]):
        alone, _ = model.recommend(matrix[user], None, k=10)
        assert alone[0].tolist() == everyone[user].tolist()
        # ... and in a batch with a stranger who plays everything (BM25 statistics would
        # have moved if they were re-fitted on the batch)
        batch = sp.vstack([matrix[user], sp.csr_matrix(np.full((1, matrix.shape[1]), 50.0))])
        mixed, _ = model.recommend(sp.csr_matrix(batch), None, k=10)
        assert mixed[0].tolist() == everyone[user].tolist()
