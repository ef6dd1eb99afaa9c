"""A tiny synthetic world with two tastes, where the right answers are known by construction.

Users 0-9 listen to "rock" items 0-9, users 10-19 to "jazz" items 10-19 (each plays 6 of
their 10), items 0 and 10 are the most played. Item 20 is jazz but nobody has played it
(a cold item).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import Dataset, Interactions, ItemFeatures

N_USERS = 20
N_ITEMS = 21
ROCK = list(range(10))
JAZZ = list(range(10, 20))
COLD_JAZZ_ITEM = 20


def _world() -> Dataset:
    rng = np.random.default_rng(7)
    rows = []
    for user in range(N_USERS):
        cluster = ROCK if user < 10 else JAZZ
        anchor = cluster[0]
        others = rng.choice(cluster[1:], size=5, replace=False)
        for item in [anchor, *others]:
            rows.append(
                {"user_id": f"u{user}", "item_id": f"i{item}", "weight": int(rng.integers(1, 40))}
            )
    frame = pd.DataFrame(rows)
    item_ids = np.array([f"i{j}" for j in range(N_ITEMS)])
    user_ids = np.array([f"u{u}" for u in range(N_USERS)])
    interactions = Interactions.from_frame(frame, user_ids=user_ids, item_ids=item_ids)
    tags = []
    for j in range(N_ITEMS):
        genre = "rock" if j < 10 else "jazz"
        tags.append({"item_id": f"i{j}", "tag": genre, "weight": 3})
        tags.append({"item_id": f"i{j}", "tag": "music", "weight": 1})
    tags.append({"item_id": "i0", "tag": "shoegaze", "weight": 5})
    tags.append({"item_id": "i1", "tag": "shoegaze", "weight": 5})
    names = pd.Series({f"i{j}": f"Artist {j}" for j in range(N_ITEMS)})
    names["i0"] = "Slowdive"
    return Dataset(
        name="synthetic",
        interactions=interactions,
        features=ItemFeatures.catalogue(pd.DataFrame(tags)),
        item_names=names,
        friends=pd.DataFrame({"user_id": [], "friend_id": []}),
    )


@pytest.fixture(scope="session")
def world() -> Dataset:
    return _world()
