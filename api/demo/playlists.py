"""Demo listeners: the bundled catalog's 471 playlists as listeners whose history is their
playlist's tracks, so a fresh start has real taste structure to recommend from.

Each playlist becomes a user marked ``is_demo`` (id derived from the playlist id, so a load
is stable), with the playlist's genre and subgenre as favourite genres, and one ``demo``
listening event per track, spread over the last 30 days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from api.genres.vocabulary import genre_slug
from api.tracks.catalog import SPOTIFY_SONGS_PATH

_DEMO_NAMESPACE = uuid.UUID("0b6f5d0e-8f0c-4a8e-b7a4-2f8c6f1d9e31")
DEMO_SUFFIX = " (demo)"


@dataclass(frozen=True, slots=True)
class DemoPlaylist:
    playlist_id: str
    name: str
    genres: tuple[str, ...]
    # Spotify track ids in the playlist's file order
    track_ids: tuple[str, ...]

    @property
    def user_id(self) -> uuid.UUID:
        return demo_user_id(self.playlist_id)

    @property
    def display_name(self) -> str:
        return self.name[: 64 - len(DEMO_SUFFIX)].strip() + DEMO_SUFFIX


def demo_user_id(playlist_id: str) -> uuid.UUID:
    return uuid.uuid5(_DEMO_NAMESPACE, playlist_id)


def read_playlists(path: Path = SPOTIFY_SONGS_PATH) -> list[DemoPlaylist]:
    # Imported here: API processes import this module and should not pay for pandas.
    import pandas as pd

    frame = pd.read_csv(
        path,
        usecols=["track_id", "playlist_id", "playlist_name", "playlist_genre", "playlist_subgenre"],
        keep_default_na=False,
        na_values=[""],
    ).dropna(subset=["track_id", "playlist_id"])
    playlists = []
    for playlist_id, rows in frame.groupby("playlist_id", sort=True):
        first = rows.iloc[0]
        genres: list[str] = []
        for raw in (first["playlist_genre"], first["playlist_subgenre"]):
            slug = genre_slug(raw) if isinstance(raw, str) else None
            if slug and slug not in genres:
                genres.append(slug)
        name = first["playlist_name"] if isinstance(first["playlist_name"], str) else ""
        playlists.append(
            DemoPlaylist(
                playlist_id=str(playlist_id),
                name=name.strip() or f"Playlist {playlist_id}",
                genres=tuple(genres),
                track_ids=tuple(dict.fromkeys(rows["track_id"].astype(str))),
            )
        )
    return playlists
