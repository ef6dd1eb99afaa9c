"""Genres to explore: adjacent in co-listening, not already the listener's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender import GenreSpace, Interactions
from recommender.explore import GenreGraph


def test_the_genre_next_to_yours_in_co_listening_is_suggested_not_your_own() -> None:
    # Items: 0 shoegaze, 1 dream pop, 2 techno, 3 house. Many listeners play shoegaze with
    # dream pop, others techno with house; Ann plays only shoegaze.
    tags = pd.DataFrame(
        {
            "item_id": [0, 1, 2, 3],
            "tag": ["shoegaze", "dream pop", "techno", "house"],
            "weight": [1.0, 1.0, 1.0, 1.0],
        }
    )
    rows = [(u, i) for u in range(6) for i in (0, 1)] + [
        (u, i) for u in range(6, 14) for i in (2, 3)
    ]
    rows.append((14, 0))
    users, items = zip(*rows, strict=True)
    matrix = sp.csr_matrix((np.ones(len(rows)), (users, items)), shape=(15, 4))
    interactions = Interactions(matrix, np.arange(15), np.arange(4))
    genres = GenreSpace().fit(interactions.item_ids, tags)
    graph = GenreGraph.fit(interactions, genres)

    ann = matrix[14]
    suggested = graph.explore(ann, k=1, known=1)
    assert suggested == ["dream pop"]  # adjacent; techno/house are more popular but far
    assert "shoegaze" not in graph.explore(ann, k=3, known=1)
    assert graph.popular(ann, k=1, known=1) in (["techno"], ["house"])
