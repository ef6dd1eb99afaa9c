"""Loaders: the HetRec 2011 Last.fm 2K data and a DataFrame exported from our database."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.data import ITEM_COL, USER_COL, WEIGHT_COL, Dataset, Interactions, empty_tags
from recommender.genres import normalise_genre

LASTFM_HETREC2011 = "lastfm-hetrec2011"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _read(path: Path, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, **kwargs)


def load_lastfm_hetrec2011(directory: str | Path | None = None) -> Dataset:
    """HetRec 2011 Last.fm 2K: 1,892 users x 17,632 artists with play counts.

    - interactions: ``user_artists.dat`` (each user's top-50 artists and their play counts);
      the item axis is every artist of ``artists.dat``.
    - item_tags: the tags listeners put on artists (``user_taggedartists.dat`` joined with
      ``tags.dat``), weight = how many listeners used that tag on that artist; these are the
      genres ("shoegaze", "post-rock", ...), normalised with :func:`normalise_genre`.
    - item_names: artist names; friends: the (symmetric) friend links.

    ``directory`` defaults to the repository's ``data/lastfm-hetrec2011`` (gzipped files).
    """
    root = Path(directory) if directory is not None else DATA_DIR / LASTFM_HETREC2011
    artists = _read(root / "artists.dat.gz", encoding="utf-8")
    plays = _read(root / "user_artists.dat.gz")
    tag_names = _read(root / "tags.dat.gz", encoding="latin-1")
    tagged = _read(root / "user_taggedartists.dat.gz")
    friends = _read(root / "user_friends.dat.gz")

    item_ids = np.sort(artists["id"].to_numpy())
    interactions = Interactions.from_frame(
        plays.rename(columns={"userID": USER_COL, "artistID": ITEM_COL}),
        weight_col=WEIGHT_COL,
        item_ids=item_ids,
    )
    tagged = tagged.merge(tag_names, on="tagID", how="inner")
    tagged["tag"] = tagged["tagValue"].map(normalise_genre)
    item_tags = (
        tagged.groupby(["artistID", "tag"]).size().rename(WEIGHT_COL).reset_index()
    ).rename(columns={"artistID": ITEM_COL})
    item_tags = item_tags[item_tags[ITEM_COL].isin(item_ids)].reset_index(drop=True)
    return Dataset(
        name=LASTFM_HETREC2011,
        interactions=interactions,
        item_tags=item_tags,
        item_names=artists.set_index("id")["name"],
        friends=friends.rename(columns={"userID": USER_COL, "friendID": "friend_id"}),
    )


def dataset_from_export(
    interactions: pd.DataFrame,
    item_tags: pd.DataFrame | None = None,
    item_names: pd.Series | None = None,
    friends: pd.DataFrame | None = None,
    catalogue_item_ids: np.ndarray | None = None,
    name: str = "tunewave",
) -> Dataset:
    """A :class:`Dataset` from frames exported from our database.

    ``interactions``: ``user_id, item_id[, weight]``, either one row per listening event
    (no weight: each counts 1) or already aggregated; repeated pairs are summed.
    ``item_tags``: ``item_id, tag[, weight]`` (a track's genres, each weight 1 unless given);
    a ``genre`` column is accepted for ``tag``. ``item_names``: ``item_id → title`` for reasons.
    ``catalogue_item_ids``: every item that may be recommended (e.g. all tracks), so tracks
    with genres but no plays yet still get a column; default: the items in ``interactions``.
    """
    item_axis = (
        np.asarray(catalogue_item_ids)
        if catalogue_item_ids is not None
        else np.unique(np.concatenate([interactions[ITEM_COL].to_numpy()]))
    )
    matrix = Interactions.from_frame(interactions, item_ids=item_axis)
    tags = empty_tags()
    if item_tags is not None and len(item_tags):
        tags = item_tags.rename(columns={"genre": "tag"})
        if WEIGHT_COL not in tags.columns:
            tags = tags.assign(**{WEIGHT_COL: 1.0})
        tags = tags.assign(tag=tags["tag"].map(normalise_genre))
        tags = tags.groupby([ITEM_COL, "tag"], as_index=False)[WEIGHT_COL].sum()
    return Dataset(
        name=name,
        interactions=matrix,
        item_tags=tags,
        item_names=item_names if item_names is not None else pd.Series(dtype=object),
        friends=(friends if friends is not None else pd.DataFrame({USER_COL: [], "friend_id": []})),
    )


DATASETS = {LASTFM_HETREC2011: load_lastfm_hetrec2011}


def load_dataset(name: str) -> Dataset:
    """A bundled data set by name (``lastfm-hetrec2011``)."""
    try:
        return DATASETS[name]()
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}") from None
