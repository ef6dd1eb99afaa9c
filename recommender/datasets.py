"""Loaders: the HetRec 2011 Last.fm 2K data and a DataFrame exported from our database."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.data import ITEM_COL, USER_COL, WEIGHT_COL, Dataset, Interactions
from recommender.features import ItemFeatures

LASTFM_HETREC2011 = "lastfm-hetrec2011"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _read(path: Path, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, **kwargs)


def load_lastfm_hetrec2011(directory: str | Path | None = None) -> Dataset:
    """HetRec 2011 Last.fm 2K: 1,892 users x 17,632 artists with play counts.

    - interactions: ``user_artists.dat`` (each user's top-50 artists and their play counts);
      the item axis is every artist of ``artists.dat``.
    - features: the tags listeners put on artists (``user_taggedartists.dat`` joined with
      ``tags.dat``) as listener labels: a tag counts once per listener, and a label on a
      (listener, artist) pair counts only when that pair is in the training matrix (or is
      not a play of the data set at all), so a held-out play never leaks through its tags.
      These are the genres ("shoegaze", "post-rock", ...), normalised.
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
    events = tagged.rename(columns={"userID": USER_COL, "artistID": ITEM_COL, "tagValue": "tag"})[
        [USER_COL, ITEM_COL, "tag"]
    ]
    events = events[events[ITEM_COL].isin(item_ids)].reset_index(drop=True)
    return Dataset(
        name=LASTFM_HETREC2011,
        interactions=interactions,
        features=ItemFeatures(events=events, universe=interactions),
        item_names=artists.set_index("id")["name"],
        friends=friends.rename(columns={"userID": USER_COL, "friendID": "friend_id"}),
    )


def load_hetrec_tag_dates(directory: str | Path | None = None) -> pd.DataFrame:
    """``user_id, item_id, date``: when each HetRec listener tagged each artist (the data's
    only timestamps; used to find a listener's most recent new artists)."""
    root = Path(directory) if directory is not None else DATA_DIR / LASTFM_HETREC2011
    tagged = _read(root / "user_taggedartists.dat.gz")
    dates = pd.to_datetime(
        {"year": tagged["year"], "month": tagged["month"], "day": tagged["day"]}, errors="coerce"
    )
    return pd.DataFrame(
        {USER_COL: tagged["userID"], ITEM_COL: tagged["artistID"], "date": dates}
    ).dropna()


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
    ``item_tags``: ``item_id, tag[, weight]`` (a track's genres, each weight 1 unless given;
    a ``genre`` column is accepted for ``tag``): catalogue facts, not labels derived from the
    plays, so they are used as they are in every split. ``item_names``: ``item_id → title``
    for reasons.
    ``catalogue_item_ids``: every item that may be recommended (e.g. all tracks), so tracks
    with genres but no plays yet still get a column; default: the items in ``interactions``.
    """
    item_axis = (
        np.asarray(catalogue_item_ids)
        if catalogue_item_ids is not None
        else np.unique(np.concatenate([interactions[ITEM_COL].to_numpy()]))
    )
    matrix = Interactions.from_frame(interactions, item_ids=item_axis)
    return Dataset(
        name=name,
        interactions=matrix,
        features=ItemFeatures.catalogue(item_tags),
        item_names=item_names if item_names is not None else pd.Series(dtype=object),
        friends=(friends if friends is not None else pd.DataFrame({USER_COL: [], "friend_id": []})),
    )


SPOTIFY_PLAYLISTS = "spotify-playlists"


def load_spotify_playlists(path: str | Path | None = None) -> Dataset:
    """The bundled catalogue's playlists as users: 471 playlists x 28,356 tracks (Spotify
    Songs, TidyTuesday 2020-01-21), weight 1 per (playlist, track).

    Side information, leak-free: the track's credited artist is a catalogue fact
    (``artist:<name>``, static); the playlist genre and subgenre are labels *of the playlist*
    and so are listener labels on each (playlist, track) pair: a track's genres come only
    from the training playlists that contain it, never from the playlist being predicted.
    """
    csv_path = (
        Path(path) if path is not None else DATA_DIR / "spotify-tracks" / "spotify_songs.csv.gz"
    )
    songs = pd.read_csv(
        csv_path,
        usecols=[
            "track_id",
            "track_name",
            "track_artist",
            "playlist_id",
            "playlist_genre",
            "playlist_subgenre",
        ],
    ).dropna(subset=["track_id", "playlist_id"])
    pairs = songs.drop_duplicates(["playlist_id", "track_id"])
    interactions = Interactions.from_frame(
        pairs.rename(columns={"playlist_id": USER_COL, "track_id": ITEM_COL}), weight_col=None
    )
    labels = pd.concat(
        [
            pairs[["playlist_id", "track_id", column]].rename(columns={column: "tag"})
            for column in ("playlist_genre", "playlist_subgenre")
        ],
        ignore_index=True,
    ).rename(columns={"playlist_id": USER_COL, "track_id": ITEM_COL})
    tracks = songs.drop_duplicates("track_id")
    artists = tracks[["track_id", "track_artist"]].dropna()
    static = pd.DataFrame(
        {
            ITEM_COL: artists["track_id"].to_numpy(),
            "tag": ("artist:" + artists["track_artist"].astype(str)).to_numpy(),
        }
    )
    names = tracks.set_index("track_id")
    return Dataset(
        name=SPOTIFY_PLAYLISTS,
        interactions=interactions,
        features=ItemFeatures(
            static=ItemFeatures.catalogue(static).static,
            events=labels.dropna(),
            universe=interactions,
        ),
        item_names=(names["track_artist"].astype(str) + " - " + names["track_name"].astype(str)),
        friends=pd.DataFrame({USER_COL: [], "friend_id": []}),
    )


DATASETS = {LASTFM_HETREC2011: load_lastfm_hetrec2011, SPOTIFY_PLAYLISTS: load_spotify_playlists}


def load_dataset(name: str) -> Dataset:
    """A bundled data set by name (``lastfm-hetrec2011``, ``spotify-playlists``)."""
    try:
        return DATASETS[name]()
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}") from None
