"""One genre vocabulary for tracks, artists, rooms, profiles and the recommender.

Providers spell genres differently ("Hip-Hop", "hip hop", "R&B", "rnb"); every name that enters
the system goes through ``genre_slug`` so the same genre is always the same row.
"""

from __future__ import annotations

import re

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
}
_ACRONYMS = {"edm": "EDM", "r&b": "R&B", "uk": "UK", "us": "US", "idm": "IDM", "lo-fi": "Lo-Fi"}
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
