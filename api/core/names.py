"""Names people see (display names, room names): one normal form, nothing that hides or
disguises what is shown.

- NFKC-normalised, so styled look-alikes (full-width letters, mathematical bold) are the
  same name as their plain form, and trimmed.
- No control characters at all (C0, DEL, C1): that refuses ANSI escapes (``ESC[``), NUL,
  newlines and tabs.
- No bidirectional overrides or isolates (they reorder what follows, e.g. in a member list).
- Something visible: a name of only spaces, zero-width or other invisible characters is
  refused. Zero-width joiners *inside* a visible name (emoji sequences) are kept.
"""

from __future__ import annotations

import unicodedata

# Invisible formatting characters, counted as nothing when deciding whether a name shows.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
# Hangul fillers and braille blank render as nothing but are "letters".
_BLANK_LETTERS = frozenset("\u3164\u115f\u1160\uffa0\u2800")


def normalize_name(value: str, max_length: int | None = None) -> str:
    """``value`` in normal form; ValueError saying what is wrong otherwise."""
    name = unicodedata.normalize("NFKC", value).strip()
    if max_length is not None and len(name) > max_length:
        raise ValueError(f"must be at most {max_length} characters once normalised")
    for char in name:
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError("must not contain control characters (newlines, tabs, escapes)")
        if char in _BIDI_CONTROLS:
            raise ValueError("must not contain text-direction control characters")
        if category in ("Cs", "Co", "Cn"):
            raise ValueError("must not contain unassigned or private-use characters")
    if not any(
        unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_LETTERS
        for char in name
    ):
        raise ValueError("must contain visible characters")
    return name


def clean_name(value: str | None, fallback: str, max_length: int) -> str:
    """A provider's name made acceptable (never refused: we cannot ask Google to rename
    someone): invalid characters dropped, ``fallback`` when nothing visible is left."""
    if not value:
        return fallback
    text = unicodedata.normalize("NFKC", value)[:max_length]
    text = "".join(
        char
        for char in text
        if unicodedata.category(char) not in ("Cc", "Cs", "Co", "Cn") and char not in _BIDI_CONTROLS
    )
    try:
        return normalize_name(text, max_length)
    except ValueError:
        return fallback


def name_key(name: str) -> str:
    """The form two names are compared in: normalised, then case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def display_name(value: str) -> str:
    """Pydantic validator for display names (64 characters at most, as stored)."""
    return normalize_name(value, 64)


def room_name(value: str) -> str:
    """Pydantic validator for room names (80 characters at most, as stored)."""
    return normalize_name(value, 80)
