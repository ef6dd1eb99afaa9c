"""MMR re-ranking with a diversity knob, and people by taste with the friends metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender import Dataset, Interactions, ItemFeatures
from recommender.diversity import mmr_rerank
from recommender.people import TasteParams, friends_in_top_k, people_scores

# Items 0-2 are rock, 3-5 jazz; the model ranks all rock first.
GENRES = sp.csr_matrix(np.array([[1, 0]] * 3 + [[0, 1]] * 3, dtype=np.float32))
CANDIDATES = np.array([[0, 1, 2, 3, 4, 5]])
SCORES = np.array([[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])


def test_no_diversity_keeps_the_models_order() -> None:
    assert mmr_rerank(CANDIDATES, SCORES, GENRES, 4, 0.0).tolist() == [[0, 1, 2, 3]]


def test_diversity_interleaves_genres_and_never_repeats_an_item() -> None:
    picked = mmr_rerank(CANDIDATES, SCORES, GENRES, 4, 0.5)[0].tolist()
    assert picked[:2] == [0, 3]  # the best rock, then the best jazz
    assert len(set(picked)) == 4
    assert {0, 3} <= set(picked)


def test_padding_and_a_bad_knob() -> None:
    padded = np.array([[2, 4, -1, -1, -1, -1]])
    assert mmr_rerank(padded, SCORES, GENRES, 4, 0.3).tolist() == [[2, 4, -1, -1]]
    with pytest.raises(ValueError, match="diversity"):
        mmr_rerank(CANDIDATES, SCORES, GENRES, 4, 1.5)


def _people_world() -> Dataset:
    """Ann and Bob share a niche artist (9); Ann and Cy share only the biggest act (0)."""
    plays = {
        "ann": {0: 10, 9: 10},
        "bob": {9: 10, 5: 10},
        "cy": {0: 10, 6: 10},
        **{f"fan{n}": {0: 10, 1 + n % 4: 5} for n in range(8)},
    }
    rows = [(u, i, w) for u, items in plays.items() for i, w in items.items()]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])
    interactions = Interactions.from_frame(frame, item_ids=np.arange(10))
    friends = pd.DataFrame({"user_id": ["ann", "bob"], "friend_id": ["bob", "ann"]})
    return Dataset("people", interactions, ItemFeatures.none(), pd.Series(dtype=object), friends)


def test_taste_prefers_a_shared_rare_artist_to_a_shared_hit() -> None:
    world = _people_world()
    ann, bob, cy = world.interactions.user_index(["ann", "bob", "cy"])
    taste = people_scores(world.interactions, method="taste")
    cosine = people_scores(world.interactions, method="cosine")
    assert taste[ann, bob] > taste[ann, cy]
    assert cosine[ann, bob] == pytest.approx(cosine[ann, cy])  # plain cosine cannot tell
    # friends in top-1: ann's only friend is bob, bob's only friend is ann
    assert friends_in_top_k(taste, world, k=1) == 1.0
    everyone_picks_cy = np.zeros_like(taste)
    everyone_picks_cy[:, cy] = 1.0
    assert friends_in_top_k(everyone_picks_cy, world, k=1) == 0.0


def test_taste_prefers_the_more_active_of_two_people_with_the_same_taste() -> None:
    frame = pd.DataFrame(
        [("ann", 1, 3), ("ann", 2, 3), ("bob", 1, 1), ("bob", 2, 1), ("cy", 1, 40), ("cy", 2, 40)],
        columns=["user_id", "item_id", "weight"],
    )
    interactions = Interactions.from_frame(frame)
    ann, bob, cy = interactions.user_index(["ann", "bob", "cy"])
    taste = people_scores(interactions, method="taste")
    assert taste[ann, cy] > taste[ann, bob]  # same normalised plays, cy listens more
    flat = people_scores(interactions, method="taste", params=TasteParams(activity_power=0.0))
    assert flat[ann, cy] == pytest.approx(flat[ann, bob])


def test_friends_in_top_k_counts_only_the_users_asked_for() -> None:
    world = _people_world()
    ann, bob, cy = world.interactions.user_index(["ann", "bob", "cy"])
    ann_picks_cy = np.zeros((world.interactions.n_users,) * 2)
    ann_picks_cy[:, ann] = 1.0
    ann_picks_cy[ann, cy] = 2.0
    assert friends_in_top_k(ann_picks_cy, world, k=1) == 0.5  # bob right, ann wrong
    assert friends_in_top_k(ann_picks_cy, world, k=1, users=np.array([bob])) == 1.0
    assert friends_in_top_k(ann_picks_cy, world, k=1, users=np.array([ann, cy])) == 0.0
