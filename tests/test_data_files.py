"""The bundled data sets: present, byte-for-byte what their SOURCE.md says, and loadable.

Row counts are the ones SOURCE.md states; the sha256 checks compare against SOURCE.md's own
tables, so the file and its documentation cannot drift apart.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
SPOTIFY = DATA / "spotify-tracks"
LASTFM = DATA / "lastfm-hetrec2011"

SPOTIFY_COLUMNS = [
    "track_id",
    "track_name",
    "track_artist",
    "track_popularity",
    "track_album_id",
    "track_album_name",
    "track_album_release_date",
    "playlist_name",
    "playlist_id",
    "playlist_genre",
    "playlist_subgenre",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
]

# file stem -> (encoding, columns, data rows)
LASTFM_FILES = {
    "user_artists": ("ascii", ["userID", "artistID", "weight"], 92_834),
    "artists": ("utf-8", ["id", "name", "url", "pictureURL"], 17_632),
    "tags": ("latin-1", ["tagID", "tagValue"], 11_946),
    "user_friends": ("ascii", ["userID", "friendID"], 25_434),
    "user_taggedartists": (
        "ascii",
        ["userID", "artistID", "tagID", "day", "month", "year"],
        186_478,
    ),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def documented_sha256s(source_md: Path) -> dict[str, list[str]]:
    """Every `| file | ... | sha256 |` table row of a SOURCE.md, file name -> its hashes."""
    found: dict[str, list[str]] = {}
    for line in source_md.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        digest = re.fullmatch(r"[0-9a-f]{64}", cells[-1]) if len(cells) > 1 else None
        if digest:
            name = cells[0].split()[0].strip("`")
            found.setdefault(name, []).append(digest.group())
    return found


def read_lastfm(stem: str) -> pd.DataFrame:
    encoding = LASTFM_FILES[stem][0]
    return pd.read_csv(
        LASTFM / f"{stem}.dat.gz", sep="\t", encoding=encoding, quoting=csv.QUOTE_NONE
    )


def test_every_data_set_has_its_source_md() -> None:
    for folder in (SPOTIFY, LASTFM):
        text = (folder / "SOURCE.md").read_text(encoding="utf-8")
        assert "## In this repository" in text, folder.name


def test_spotify_songs_is_the_documented_file_and_loads() -> None:
    path = SPOTIFY / "spotify_songs.csv.gz"
    documented = documented_sha256s(SPOTIFY / "SOURCE.md")
    assert sha256(path.read_bytes()) in documented["spotify_songs.csv.gz"]

    songs = pd.read_csv(path)

    assert len(songs) == 32_833
    assert list(songs.columns) == SPOTIFY_COLUMNS
    assert songs["track_id"].str.fullmatch(r"[0-9A-Za-z]{22}").all()


@pytest.mark.parametrize("stem", list(LASTFM_FILES))
def test_lastfm_file_is_gzip_of_the_documented_original(stem: str) -> None:
    compressed = (LASTFM / f"{stem}.dat.gz").read_bytes()
    documented = documented_sha256s(LASTFM / "SOURCE.md")

    assert sha256(compressed) in documented[f"{stem}.dat.gz"]
    # The bytes inside are the original .dat, whose hash the upstream table records.
    assert sha256(gzip.decompress(compressed)) in documented[f"{stem}.dat"]


@pytest.mark.parametrize("stem", list(LASTFM_FILES))
def test_lastfm_file_loads_with_the_documented_rows(stem: str) -> None:
    _, columns, rows = LASTFM_FILES[stem]

    frame = read_lastfm(stem)

    assert list(frame.columns) == columns
    assert len(frame) == rows


def test_lastfm_text_survives_its_encodings_and_quotes() -> None:
    artists = read_lastfm("artists").set_index("id")["name"]
    tags = read_lastfm("tags").set_index("tagID")["tagValue"]

    assert artists[1686] == '"Weird Al" Yankovic'
    assert artists[735] == "The Rolling Stones"
    # latin-1 decoding keeps accented tags; a wrong codec would fail or garble them.
    assert tags[5457] == "español"
    assert tags[7982] == "fußball"


def test_lastfm_readme_is_kept_unchanged() -> None:
    documented = documented_sha256s(LASTFM / "SOURCE.md")
    assert sha256((LASTFM / "readme.txt").read_bytes()) in documented["readme.txt"]


def test_lastfm_ids_join_up() -> None:
    plays = read_lastfm("user_artists")
    artists = read_lastfm("artists")
    tagged = read_lastfm("user_taggedartists")
    tags = read_lastfm("tags")

    assert plays["userID"].nunique() == 1_892
    assert set(plays["artistID"]) <= set(artists["id"])
    assert set(tagged["tagID"]) <= set(tags["tagID"])
