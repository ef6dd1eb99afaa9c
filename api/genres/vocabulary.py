"""One genre vocabulary for tracks, artists, rooms, profiles and the recommender.

Providers spell genres differently ("Hip-Hop", "hip hop", "R&B", "rnb"); every name that enters
the system goes through ``genre_slug`` so the same genre is always the same row.

The vocabulary is the genres the catalog knows (``genres`` rows: the bundled catalog's genres
and subgenres, and what enrichment found) plus ``COMMON_GENRES``: the genres people name most,
whether or not any track carries them yet, so a room can be tagged jazz on a catalog without
jazz. That list is the genre names among the 250 most-used tags of the HetRec 2011 Last.fm
dataset (``common_genres.tsv``, derivation in docs/history.md, "Genre vocabulary").
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

MAX_GENRE_LENGTH = 64

_ALIASES = {
    "rnb": "r&b",
    "r and b": "r&b",
    "rhythm and blues": "r&b",
    "hiphop": "hip hop",
    "hip-hop": "hip hop",
    "electronic dance music": "edm",
    "drum and bass": "drum & bass",
    "dnb": "drum & bass",
    "synth pop": "synthpop",
    "synth-pop": "synthpop",
    "post rock": "post-rock",
    "post punk": "post-punk",
    "trip hop": "trip-hop",
    "triphop": "trip-hop",
    "powerpop": "power pop",
    "rock n roll": "rock and roll",
    "rock 'n' roll": "rock and roll",
    "rock & roll": "rock and roll",
    "rock&roll": "rock and roll",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "kpop": "k-pop",
    "k pop": "k-pop",
    "jpop": "j-pop",
    "j pop": "j-pop",
    "jrock": "j-rock",
    "j rock": "j-rock",
    "classical music": "classical",
    "country music": "country",
    "folk music": "folk",
    "world music": "world",
    "heavy-metal": "heavy metal",
}
_ACRONYMS = {
    "edm": "EDM",
    "r&b": "R&B",
    "uk": "UK",
    "us": "US",
    "idm": "IDM",
    "lo-fi": "Lo-Fi",
    "ebm": "EBM",
    "mpb": "MPB",
}
_SPACES = re.compile(r"\s+")
_AMPERSAND = re.compile(r"\s*&\s*")


def genre_slug(raw: str) -> str | None:
    """The vocabulary key for a genre name, or None when nothing usable is left."""
    slug = _SPACES.sub(" ", raw.strip().lower().replace("_", " "))
    # "r & b" is "r&b", but "drum & bass" keeps its spaces.
    compact = _AMPERSAND.sub("&", slug)
    if len(compact) <= 3:
        slug = compact
    slug = _ALIASES.get(slug, slug)
    if not slug or len(slug) > MAX_GENRE_LENGTH:
        return None
    return slug


def genre_display_name(slug: str) -> str:
    """How a person reads a genre: "dance pop" -> "Dance Pop", "r&b" -> "R&B"."""
    words = []
    for word in slug.split(" "):
        words.append(_ACRONYMS.get(word) or "-".join(part.capitalize() for part in word.split("-")))
    return " ".join(words)


COMMON_GENRES_PATH = Path(__file__).with_name("common_genres.tsv")


def _read_common_genres(path: Path = COMMON_GENRES_PATH) -> tuple[str, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return tuple(row["slug"] for row in rows)


# Most used first (by Last.fm tag uses); every entry is already a slug.
COMMON_GENRES: tuple[str, ...] = _read_common_genres()
COMMON_GENRE_SET = frozenset(COMMON_GENRES)
