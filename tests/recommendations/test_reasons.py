"""Reason parts: every code renders, and every code is documented for clients to translate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.recommendations.reasons import CODES, part, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "recommendations.md"


def test_parts_render_to_the_english_reason() -> None:
    parts = [
        part("plays_like_you", genres=["shoegaze", "dream pop"], artists=["Slowdive"]),
        part("now_playing", title="Alison", artists=["Slowdive"]),
        part("here_now", count=3),
    ]
    assert render(parts) == (
        "plays shoegaze, dream pop and Slowdive, like you · now playing Alison by Slowdive"
        " · 3 here now"
    )
    assert render([part("popular_in_genres_you_play", genres=["jazz", "blues"])]) == (
        "popular in jazz and blues, which you play a lot"
    )


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reason code"):
        part("n_listening", count=8)


def test_every_code_is_documented_with_its_params() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert documented >= CODES, sorted(CODES - documented)
    # The table lists codes only (no stale ones the API never sends).
    assert documented & {"n_listening", "listening"} == set()
