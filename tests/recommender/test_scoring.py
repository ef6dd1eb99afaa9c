"""Tracks, rooms and people for a user, and the reasons a person reads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import (
    Dataset,
    GenreSpace,
    LiveRoom,
    RoomScorer,
    TasteIndex,
    make_model,
    recommend_all,
    user_taste,
)
from recommender.people import TasteParams, people_scores
from recommender.scoring import liveness


@pytest.fixture(scope="module")
def genres(world: Dataset) -> GenreSpace:
    return GenreSpace().fit(world.interactions.item_ids, world.all_item_tags())


@pytest.fixture(scope="module")
def taste_index(world: Dataset, genres: GenreSpace) -> TasteIndex:
    model = make_model("als", factors=2, iterations=30, num_threads=1).fit(world.interactions)
    return TasteIndex(model, world.interactions, genres, world.item_names)


def test_genre_space_profiles_and_vocabulary(world: Dataset, genres: GenreSpace) -> None:
    assert list(genres.vocabulary) == ["jazz", "music", "rock", "shoegaze"]
    rock_fan = world.interactions.rows_for([["i0", "i1"]])
    assert genres.top_genres(genres.profiles(rock_fan), 2) == ["shoegaze", "rock"]
    declared = genres.genre_vectors([["Jazz", "unknown genre"], []])
    assert genres.top_genres(declared[0], 3) == ["jazz"]
    assert declared[1].nnz == 0
    restored = GenreSpace.from_state(genres.state())
    assert (restored.item_matrix != genres.item_matrix).nnz == 0


def test_tracks_come_with_reasons_naming_a_shared_genre_and_a_played_artist(
    taste_index: TasteIndex,
) -> None:
    recommendations = taste_index.tracks("u1", k=3)
    assert len(recommendations) == 3
    assert all(r.id in {f"i{j}" for j in range(10)} for r in recommendations)
    played = {f"Artist {j}" for j in taste_index.interactions.matrix[1].indices} | {"Slowdive"}
    for r in recommendations:
        assert r.reason.startswith("rock, like ")
        assert r.reason.endswith(" you play")
        assert r.reason.removeprefix("rock, like ").removesuffix(" you play") in played
    assert [r.score for r in recommendations] == sorted(
        (r.score for r in recommendations), reverse=True
    )


def test_a_user_without_plays_gets_the_most_listened_tracks(taste_index: TasteIndex) -> None:
    recommendations = taste_index.tracks("stranger", k=2)
    assert {r.id for r in recommendations} == {"i0", "i10"}  # each played by ten users
    assert {r.reason for r in recommendations} == {
        "popular in shoegaze",
        "popular in jazz",
    }  # i0 is tagged shoegaze most


def test_people_with_the_same_taste_come_first_with_a_reason(taste_index: TasteIndex) -> None:
    people = taste_index.people("u12", k=5)
    assert len(people) == 5
    assert all(10 <= int(p.id[1:]) < 20 for p in people)
    assert "u12" not in {p.id for p in people}
    assert all(p.reason.startswith("you both play jazz") for p in people)
    assert taste_index.people("u12", k=5, exclude=[people[0].id])[0].id != people[0].id
    assert taste_index.people("stranger") == []


@pytest.mark.parametrize("params", [TasteParams(), TasteParams(genre_weight=0.5)])
def test_served_people_rank_as_the_benchmarked_taste_similarity(
    world: Dataset, genres: GenreSpace, taste_index: TasteIndex, params: TasteParams
) -> None:
    served = TasteIndex(taste_index.model, world.interactions, genres, people_params=params)
    benchmarked = people_scores(world.interactions, genres, method="taste", params=params)
    for row, user_id in enumerate(world.interactions.user_ids):
        people = served.people(user_id, k=19)
        expected = np.delete(benchmarked[row], row)
        assert [p.score for p in people] == pytest.approx(np.sort(expected)[::-1].tolist())
        rows = world.interactions.user_index([p.id for p in people])
        assert [p.score for p in people] == pytest.approx(benchmarked[row, rows].tolist())


def test_people_reason_names_the_artist_they_share(taste_index: TasteIndex) -> None:
    matrix = taste_index.interactions.matrix
    both = matrix[0].multiply(matrix[1]).tocsr()
    top_shared = int(both.indices[np.argmax(both.data)])
    name = taste_index.item_names[f"i{top_shared}"]
    reason = taste_index.people_reason(0, 1)
    assert reason.startswith("you both play rock")
    assert reason.endswith(f" and {name}")


def make_scorer(world: Dataset, genres: GenreSpace, taste_index: TasteIndex) -> RoomScorer:
    model = taste_index.model
    vectors = model.user_vectors(world.interactions.matrix, np.arange(20))
    return RoomScorer(
        world.interactions.item_ids,
        genres,
        item_vectors=model.item_vectors(),
        user_ids=world.interactions.user_ids,
        user_vectors=vectors,
        item_names=world.item_names,
    )


def test_rooms_playing_your_taste_rank_first_with_a_reason(
    world: Dataset, genres: GenreSpace, taste_index: TasteIndex
) -> None:
    scorer = make_scorer(world, genres, taste_index)
    rooms = [
        LiveRoom(
            "jazz-room",
            item_ids=["i11", "i12"],
            member_ids=["u11"],
            genres=["jazz"],
            listeners_now=30,
            is_playing=True,
        ),
        LiveRoom(
            "rock-room",
            item_ids=["i2", "i3"],
            now_playing_item_id="i0",
            member_ids=["u2", "u3"],
            genres=["rock"],
            listeners_now=3,
            is_playing=True,
        ),
        LiveRoom("empty-room"),
    ]
    index = scorer.index(rooms)
    fan = taste_index.taste("u1")
    ranked = scorer.recommend(index, fan, k=3)
    assert [r.id for r in ranked][:2] == ["rock-room", "jazz-room"]
    assert ranked[0].reason.startswith("plays ")
    assert ranked[0].reason.endswith(", like you")
    assert "Slowdive" in ranked[0].reason or "rock" in ranked[0].reason
    jazz_fan = taste_index.taste("u15")
    assert scorer.recommend(index, jazz_fan, k=1)[0].id == "jazz-room"


def test_liveness_breaks_ties_between_rooms_that_play_the_same(
    world: Dataset, genres: GenreSpace, taste_index: TasteIndex
) -> None:
    scorer = make_scorer(world, genres, taste_index)
    same = {"item_ids": ["i2", "i3"], "genres": ["rock"], "is_playing": True}
    index = scorer.index(
        [LiveRoom("quiet", listeners_now=1, **same), LiveRoom("busy", listeners_now=50, **same)]
    )
    assert [r.id for r in scorer.recommend(index, taste_index.taste("u1"), k=2)] == [
        "busy",
        "quiet",
    ]
    assert liveness(np.array([0, 9, 9]), np.array([True, True, False])).tolist() == [0.0, 1.0, 0.5]


def test_rooms_without_a_model_are_ranked_by_genres_for_a_new_user(
    world: Dataset, genres: GenreSpace
) -> None:
    scorer = RoomScorer(world.interactions.item_ids, genres, item_names=world.item_names)
    index = scorer.index([LiveRoom("r", genres=["rock"]), LiveRoom("j", genres=["jazz"])])
    assert index.taste_vectors is None
    empty = sp.csr_matrix((1, world.interactions.n_items), dtype=np.float32)
    newcomer = user_taste(empty, genres, favourite_genres=["Jazz"])
    ranked = scorer.recommend(index, newcomer, k=2)
    assert [r.id for r in ranked] == ["j", "r"]
    assert ranked[0].reason == "plays jazz, like you"


def test_recommend_all_lists_every_active_users_top_k(
    world: Dataset, taste_index: TasteIndex
) -> None:
    frame = recommend_all(taste_index.model, world.interactions, k=3)
    assert len(frame) == 20 * 3
    assert set(frame["rank"]) == {1, 2, 3}
    for user_id, rows in frame.groupby("user_id"):
        played = set(
            world.interactions.item_ids[world.interactions.matrix[int(user_id[1:])].indices]
        )
        assert not played & set(rows["item_id"])


def test_room_ids_are_resolved_for_numeric_and_text_ids() -> None:
    import pandas as pd

    from recommender.scoring import _positions

    assert _positions(pd.Index([5, 7, 9]), [9, 4, 5]).tolist() == [2, -1, 0]
    assert _positions(pd.Index(["a", "b"]), ["b", "zz"]).tolist() == [1, -1]
    assert _positions(pd.Index(["a"]), []).tolist() == []
