"""Reading the bundled Spotify catalog (data/spotify-tracks) into one row per track.

The file has a row per (track, playlist); a track's genres are the union of the genre and
subgenre of every playlist it appears in (playlist genres, not per-track labels: see SOURCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.core.config import PROJECT_ROOT
from api.genres.vocabulary import genre_slug

SPOTIFY_SONGS_PATH = PROJECT_ROOT / "data" / "spotify-tracks" / "spotify_songs.csv.gz"


@dataclass(frozen=True, slots=True)
class CatalogTrack:
    spotify_id: str
    title: str
    artist: str
    album: str | None
    duration_ms: int
    popularity: int | None
    release_date: str | None
    genres: tuple[str, ...]


def _clean(value: object) -> str | None:
    import pandas as pd

    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def read_spotify_songs(path: Path = SPOTIFY_SONGS_PATH) -> list[CatalogTrack]:
    # Imported here: every API process imports this module, only imports read the file, and
    # pandas takes seconds to import.
    import pandas as pd

    frame = pd.read_csv(
        path,
        usecols=[
            "track_id",
            "track_name",
            "track_artist",
            "track_popularity",
            "track_album_name",
            "track_album_release_date",
            "playlist_genre",
            "playlist_subgenre",
            "duration_ms",
        ],
        dtype={"track_popularity": "Int64", "duration_ms": "Int64"},
        keep_default_na=False,
        na_values=[""],
    )
    # Five rows have no title or artist: nothing a listener could find or recognise.
    frame = frame.dropna(subset=["track_id", "track_name", "track_artist", "duration_ms"])
    genres_by_track: dict[str, set[str]] = {}
    for track_id, genre, subgenre in frame[
        ["track_id", "playlist_genre", "playlist_subgenre"]
    ].itertuples(index=False):
        bucket = genres_by_track.setdefault(track_id, set())
        for raw in (genre, subgenre):
            slug = genre_slug(raw) if isinstance(raw, str) else None
            if slug:
                bucket.add(slug)
    first_rows = frame.drop_duplicates(subset="track_id", keep="first")
    tracks = []
    for row in first_rows.itertuples(index=False):
        tracks.append(
            CatalogTrack(
                spotify_id=row.track_id,
                title=str(row.track_name).strip()[:512],
                artist=str(row.track_artist).strip()[:255],
                album=(_clean(row.track_album_name) or None),
                duration_ms=int(row.duration_ms),
                popularity=None if pd.isna(row.track_popularity) else int(row.track_popularity),
                release_date=_clean(row.track_album_release_date),
                genres=tuple(sorted(genres_by_track.get(row.track_id, ()))),
            )
        )
    return tracks
