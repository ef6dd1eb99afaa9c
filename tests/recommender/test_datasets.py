"""Loaders against the real HetRec files and against a database-shaped export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import Dataset, Interactions, dataset_from_export, load_dataset


@pytest.fixture(scope="module")
def lastfm() -> Dataset:
    return load_dataset("lastfm-hetrec2011")


def test_lastfm_interactions_match_the_readme(lastfm: Dataset) -> None:
    interactions = lastfm.interactions
    assert interactions.n_users == 1892
    assert interactions.n_items == 17632
    assert interactions.nnz == 92834
    # the weight column is the play count: SOURCE.md gives its range and median
    assert interactions.matrix.data.min() == 1
    assert interactions.matrix.data.max() == 352698
    assert np.median(interactions.matrix.data) == 260
    assert np.diff(interactions.matrix.indptr).max() == 50  # top-50 artists per user


def test_lastfm_tags_names_and_friends(lastfm: Dataset) -> None:
    assert lastfm.item_name(1686) == '"Weird Al" Yankovic'
    slowdive = lastfm.interactions.item_index(
        lastfm.item_names[lastfm.item_names == "Slowdive"].index
    )
    assert len(slowdive) == 1
    assert slowdive[0] >= 0
    slowdive_id = lastfm.interactions.item_ids[slowdive[0]]
    item_tags = lastfm.all_item_tags()
    tags = item_tags[item_tags["item_id"] == slowdive_id]
    assert tags.sort_values("weight").iloc[-1]["tag"] == "shoegaze"
    assert item_tags["item_id"].nunique() > 12000
    assert (item_tags["tag"] == item_tags["tag"].str.lower()).all()
    assert len(lastfm.friends) == 25434


def test_lastfm_round_trips_through_the_long_frame(lastfm: Dataset) -> None:
    frame = lastfm.interactions.to_frame()
    again = Interactions.from_frame(frame, item_ids=lastfm.interactions.item_ids)
    assert (again.matrix != lastfm.interactions.matrix).nnz == 0
    assert list(again.user_ids) == list(lastfm.interactions.user_ids)


def test_export_sums_repeated_listens_and_keeps_unplayed_catalogue_items() -> None:
    events = pd.DataFrame(
        {
            "user_id": ["ann", "ann", "ann", "bob"],
            "item_id": ["t1", "t1", "t2", "t2"],
        }
    )
    genres = pd.DataFrame({"item_id": ["t1", "t3", "t3"], "genre": ["Shoegaze", "Jazz ", "jazz"]})
    dataset = dataset_from_export(
        events,
        item_tags=genres,
        item_names=pd.Series({"t1": "Slowdive - Alison"}),
        catalogue_item_ids=np.array(["t1", "t2", "t3"]),
    )
    matrix = dataset.interactions
    assert list(matrix.item_ids) == ["t1", "t2", "t3"]
    ann = matrix.user_index(["ann"])[0]
    assert matrix.matrix[ann].toarray().tolist() == [[2.0, 1.0, 0.0]]
    assert matrix.matrix[:, 2].nnz == 0  # t3: in the catalogue, never played
    item_tags = dataset.all_item_tags()
    jazz = item_tags[item_tags["item_id"] == "t3"]
    assert jazz["tag"].tolist() == ["jazz"]
    assert jazz["weight"].tolist() == [2.0]
    assert matrix.user_index(["nobody"])[0] == -1
    assert dataset.item_name("t1") == "Slowdive - Alison"


def test_export_with_weights_and_no_tags() -> None:
    frame = pd.DataFrame({"user_id": [1, 1], "item_id": [5, 6], "weight": [3.0, 4.0]})
    dataset = dataset_from_export(frame)
    assert dataset.interactions.matrix.toarray().tolist() == [[3.0, 4.0]]
    assert dataset.all_item_tags().empty


def test_unknown_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("movielens")
