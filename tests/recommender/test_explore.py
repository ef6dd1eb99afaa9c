"""Genres to explore: adjacent in co-listening, not already the listener's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender import GenreSpace, Interactions
from recommender.explore import (
    GenreGraph,
    explore_from_neighbours,
    fit_genre_graph,
    neighbour_genre_scores,
)


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


def _two_scenes() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Listeners 0-5 play shoegaze with dream pop, 6-13 techno with house, 14 only shoegaze."""
    track_genres = pd.DataFrame(
        {"item_id": ["t0", "t1", "t2", "t3"], "tag": ["shoegaze", "dream-pop", "techno", "house"]}
    )
    rows = [(f"u{u}", t) for u in range(6) for t in ("t0", "t1")]
    rows += [(f"u{u}", t) for u in range(6, 14) for t in ("t2", "t3")]
    rows.append(("u14", "t0"))
    plays = pd.DataFrame(rows, columns=["user_id", "item_id"]).assign(weight=2.0)
    return plays, track_genres


def test_served_profiles_from_plays_rank_as_the_offline_graph_does() -> None:
    plays, track_genres = _two_scenes()
    graph = fit_genre_graph(plays, track_genres)
    items = np.sort(plays["item_id"].unique())
    row = sp.csr_matrix((np.array([2.0]), ([0], [list(items).index("t0")])), shape=(1, 4))

    served = graph.profile_of_plays([["shoegaze"]], [2.0])
    np.testing.assert_allclose(served, graph.profile(row), atol=1e-6)
    suggestions = graph.explore_profile(served, k=1, known=1)
    assert [(s.genre, s.because) for s in suggestions] == [("dream-pop", "shoegaze")]
    assert [s.genre for s in suggestions] == graph.explore(row, k=1, known=1)
    # Six of shoegaze's seven listeners play dream pop: cosine 3 / (2 * sqrt(3)).
    assert graph.neighbours("shoegaze", 2) == [("dream-pop", pytest.approx(np.sqrt(3) / 2))]


def test_a_listener_with_no_plays_gets_popular_genres_and_no_adjacent_ones() -> None:
    plays, track_genres = _two_scenes()
    graph = fit_genre_graph(plays, track_genres)
    empty = graph.profile_of_plays([], [])
    assert graph.explore_profile(empty, k=3) == [] or all(
        s.score == 0 and s.because is None for s in graph.explore_profile(empty, k=3)
    )
    popular = graph.popular_profile(empty, k=2)
    assert {s.genre for s in popular} == {"techno", "house"}  # 8 listeners each vs 7
    assert all(s.because is None for s in popular)


def test_the_graph_survives_its_state_arrays() -> None:
    plays, track_genres = _two_scenes()
    graph = fit_genre_graph(plays, track_genres)
    again = GenreGraph.from_state(graph.state())
    np.testing.assert_allclose(again.adjacency, graph.adjacency)
    np.testing.assert_allclose(again.popularity, graph.popularity)
    assert again.vocabulary == graph.vocabulary
    profile = graph.profile_of_plays([["shoegaze"], ["techno"]], [1.0, 3.0])
    np.testing.assert_allclose(
        again.profile_of_plays([["shoegaze"], ["techno"]], [1.0, 3.0]), profile
    )
    assert again.explore_profile(profile, k=2, known=2) == graph.explore_profile(
        profile, k=2, known=2
    )


def test_taste_neighbours_lend_their_genres_weighted_by_closeness() -> None:
    # Genres: 0 shoegaze, 1 dream pop, 2 techno. Three other listeners.
    profiles = sp.csr_matrix(
        np.array(
            [
                [0.0, 0.0, 0.0],  # the listener (their own row is not a neighbour)
                [0.6, 0.8, 0.0],  # close: shoegaze and dream pop
                [0.0, 0.0, 1.0],  # far: techno
                [0.0, 0.0, 1.0],  # unrelated (similarity 0): never counted
            ]
        )
    )
    similarity = np.array([0.0, 0.9, 0.1, 0.0])
    scores = neighbour_genre_scores(profiles, similarity, neighbours=50)
    np.testing.assert_allclose(scores, [0.54, 0.72, 0.1])
    # Only the closest one when one neighbour is asked for.
    np.testing.assert_allclose(neighbour_genre_scores(profiles, similarity, 1), [0.54, 0.72, 0])
    # Nobody similar: nothing to lend.
    assert not neighbour_genre_scores(profiles, np.zeros(4), 50).any()


def test_served_neighbour_profiles_rank_as_the_offline_measure_does() -> None:
    """The API builds each published neighbour's profile from plays and ranks with
    ``explore_from_neighbours``; the bench sums ``neighbour_genre_scores`` over the space's
    profiles. Same neighbours, same weights: same scores, same order."""
    plays, track_genres = _two_scenes()
    # Listener 14 (only shoegaze) is close to a techno fan, less to a shoegazer.
    graph = fit_genre_graph(plays, track_genres)
    users = np.sort(plays["user_id"].unique())
    items = np.sort(plays["item_id"].unique())
    matrix = sp.csr_matrix(
        (
            plays["weight"].to_numpy(),
            (
                pd.Index(users).get_indexer(plays["user_id"]),
                pd.Index(items).get_indexer(plays["item_id"]),
            ),
        ),
        shape=(len(users), len(items)),
    )
    offline_profiles = sp.csr_matrix(graph.genres.profiles(matrix), dtype=np.float64)
    similarity = np.zeros(len(users))
    near, far = list(users).index("u7"), list(users).index("u0")
    similarity[[near, far]] = [0.9, 0.2]
    offline = neighbour_genre_scores(offline_profiles, similarity, neighbours=20)

    genres_of = dict(zip(track_genres["item_id"], track_genres["tag"], strict=True))
    served_profiles = np.vstack(
        [
            graph.profile_of_plays(
                [[genres_of[t]] for t in plays.loc[plays["user_id"] == user, "item_id"]],
                plays.loc[plays["user_id"] == user, "weight"].tolist(),
            )
            for user in ("u7", "u0")
        ]
    )
    served = explore_from_neighbours(
        graph.vocabulary, served_profiles, [0.9, 0.2], k=4, exclude={"shoegaze"}
    )

    by_genre = dict(zip(graph.vocabulary, offline, strict=True))
    for suggestion in served:
        assert suggestion.score == pytest.approx(by_genre[suggestion.genre])
    offline_order = [g for g in sorted(by_genre, key=lambda g: -by_genre[g]) if g != "shoegaze"]
    assert [s.genre for s in served] == offline_order[:3]
    # Techno and house from the close raver first, then dream pop from the shoegazer.
    assert [s.genre for s in served][2] == "dream-pop"
    assert [s.neighbours for s in served] == [1, 1, 1]
    assert all(s.because is None for s in served)


def test_neighbours_lend_no_genre_they_do_not_play_nor_the_listeners_own() -> None:
    vocabulary = ["a", "b", "c"]
    profiles = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
    suggestions = explore_from_neighbours(vocabulary, profiles, [0.5, 0.5, 0.0], 3, {"b"})
    # "c" is played only by someone not close (weight 0); "b" is the listener's own.
    assert [(s.genre, s.neighbours) for s in suggestions] == [("a", 2)]
    assert suggestions[0].score == pytest.approx(0.8)
    assert explore_from_neighbours(vocabulary, np.zeros((0, 3)), [], 3, set()) == []
