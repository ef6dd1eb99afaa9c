"""Group aggregation: average, least misery, blend; friend rooms for offline evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import Dataset, make_model
from recommender.evaluation import holdout_split
from recommender.groups import aggregate, evaluate_groups, friend_groups, group_top_k
from tests.recommender.conftest import JAZZ, ROCK

# Ann loves item 0 and tolerates 1; Bob hates 0, likes 1 a bit.
SCORES = np.array([[10.0, 6.0, 0.0], [0.0, 4.0, 10.0]])


def test_strategies_trade_the_group_against_its_least_happy_member() -> None:
    average = aggregate(SCORES, "average")
    misery = aggregate(SCORES, "least_misery")
    blend = aggregate(SCORES, "blend", misery_weight=0.5)
    assert average.tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert misery.tolist() == pytest.approx([0.0, 0.4, 0.0])
    assert int(np.argmax(misery)) == 1  # the compromise nobody hates
    assert blend.tolist() == pytest.approx([0.25, 0.45, 0.25])
    with pytest.raises(ValueError, match="strategy"):
        aggregate(SCORES, "loudest")  # type: ignore[arg-type]


def test_a_mixed_room_gets_both_tastes_and_never_what_a_member_has(world: Dataset) -> None:
    model = make_model("ease", l2=2.0).fit(world.interactions)
    rock_fan, jazz_fan = 0, 10
    members = np.array([rock_fan, jazz_fan])
    rows = world.interactions.matrix[members]
    top = group_top_k(model, rows, members, k=6, strategy="average")
    assert not set(top.tolist()) & set(rows.indices.tolist())
    assert set(top.tolist()) & set(ROCK)
    assert set(top.tolist()) & set(JAZZ)


def test_friend_groups_and_their_evaluation(world: Dataset) -> None:
    ids = world.interactions.user_ids
    friends = pd.DataFrame(
        {"user_id": [ids[0], ids[0], ids[0], ids[1]], "friend_id": [ids[1], ids[2], ids[3], ids[2]]}
    )
    groups = friend_groups(world.interactions, friends, size=3, n_groups=10, seed=0)
    assert groups
    for group in groups:
        assert len(set(group.tolist())) == 3
    train, test = holdout_split(world.interactions, 0.3, seed=0)
    model = make_model("ease", l2=2.0).fit(train)
    table = evaluate_groups(model, train, test, groups, k=5)
    assert list(table.index) == ["average", "least_misery", "blend"]
    assert (table["member ndcg@5"] >= table["worst member ndcg@5"]).all()
    assert table["member ndcg@5"].between(0, 1).all()
