"""Side information is built from the training split only: a held-out pair's tag never
reaches a model, whatever the caller does with the evaluation API."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender import Dataset, Interactions, ItemFeatures, evaluate, make_model
from recommender.evaluation import evaluate_model, holdout_split
from recommender.models.content import ContentRecommender
from recommender.tuning import search


class RecordingContent(ContentRecommender):
    """A content model that remembers every tag it was given at fit time."""

    seen: list[set[str]] = []

    def _fit(self, train: Interactions, item_tags: pd.DataFrame | None) -> None:
        assert item_tags is not None
        RecordingContent.seen.append(set(item_tags["tag"]))
        super()._fit(train, item_tags)


def _labelled(world: Dataset) -> tuple[ItemFeatures, pd.DataFrame]:
    """One listener label per stored play, its tag naming the exact (user, item) pair."""
    frame = world.interactions.to_frame()
    events = frame.assign(tag="pair " + frame["user_id"] + " " + frame["item_id"])
    outsider = pd.DataFrame({"user_id": ["u0"], "item_id": ["i15"], "tag": ["outside"]})
    features = ItemFeatures(
        static=ItemFeatures.catalogue(world.all_item_tags()).static,
        events=pd.concat([events, outsider], ignore_index=True),
        universe=world.interactions,
    )
    return features, frame


def test_a_test_split_tag_never_reaches_a_model(world: Dataset) -> None:
    features, _ = _labelled(world)
    train, test = holdout_split(world.interactions, 0.3, seed=1)
    test_pairs = {f"pair {u} {i}" for u, i, _w in test.to_frame().itertuples(index=False)}
    train_pairs = {f"pair {u} {i}" for u, i, _w in train.to_frame().itertuples(index=False)}
    assert test_pairs
    assert train_pairs

    RecordingContent.seen = []
    evaluate_model(RecordingContent(min_item_count=1), train, test, features)
    search(lambda **p: RecordingContent(**p), {"min_item_count": [1]}, train, features)
    evaluate({"content": lambda: RecordingContent(min_item_count=1)}, world.interactions, features)

    assert len(RecordingContent.seen) == 2 + 5
    for tags in RecordingContent.seen:
        assert not any(tag.startswith("pair") for tag in tags - train_pairs - test_pairs)
    # the outer split's held-out pairs never appear, its training pairs and catalogue tags do
    first = RecordingContent.seen[0]
    assert not first & test_pairs
    assert train_pairs <= first
    assert {"rock", "jazz", "outside"} <= first  # catalogue tags and labels off the data


def test_the_evaluation_refuses_a_ready_item_tags_frame(world: Dataset) -> None:
    train, test = holdout_split(world.interactions, 0.3, seed=0)
    leaky: Any = world.all_item_tags()
    with pytest.raises(TypeError, match="ItemFeatures"):
        evaluate_model(make_model("content"), train, test, leaky)
    with pytest.raises(TypeError, match="ItemFeatures"):
        evaluate({"content": make_model("content")}, world.interactions, leaky)
    with pytest.raises(TypeError, match="ItemFeatures"):
        search("content", {"min_item_count": [1]}, train, leaky)


def test_listener_labels_need_their_universe_and_matching_axes(world: Dataset) -> None:
    events = pd.DataFrame({"user_id": ["u0"], "item_id": ["i0"], "tag": ["x"]})
    with pytest.raises(ValueError, match="universe"):
        ItemFeatures(events=events)
    features = ItemFeatures(events=events, universe=world.interactions)
    full = world.interactions
    other = Interactions(full.matrix[:5], full.user_ids[:5], full.item_ids)
    with pytest.raises(ValueError, match="axes"):
        features.build(other)
    assert features.build(world.interactions)["tag"].tolist() == ["x"]
    empty = world.interactions.with_matrix(world.interactions.matrix * 0)
    assert features.build(empty).empty  # (u0, i0) is a play of the data, not in this train


def test_hetrec_tags_of_held_out_plays_are_dropped() -> None:
    from recommender import load_lastfm_hetrec2011

    lastfm = load_lastfm_hetrec2011()
    train, _test = holdout_split(lastfm.interactions, 0.2, seed=0)
    everything = lastfm.all_item_tags()
    clean = lastfm.features.build(train)
    assert len(clean) < len(everything)
    merged = everything.merge(clean, on=["item_id", "tag"], how="left", suffixes=("", "_clean"))
    assert (merged["weight_clean"].fillna(0) <= merged["weight"]).all()
    assert np.isclose(clean["weight"].sum() / everything["weight"].sum(), 0.9, atol=0.1)
