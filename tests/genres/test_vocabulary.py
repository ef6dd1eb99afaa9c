from __future__ import annotations

import pytest

from api.genres.vocabulary import MAX_GENRE_LENGTH, genre_display_name, genre_slug


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("Hip-Hop", "hip hop"),
        ("hip hop", "hip hop"),
        ("  Dance   Pop ", "dance pop"),
        ("R & B", "r&b"),
        ("rnb", "r&b"),
        ("R&B", "r&b"),
        ("Drum and Bass", "drum & bass"),
        ("drum & bass", "drum & bass"),
        ("post-teen pop", "post-teen pop"),
        ("indie_rock", "indie rock"),
        ("Synth Pop", "synthpop"),
        ("synth-pop", "synthpop"),
        ("Post Rock", "post-rock"),
        ("trip hop", "trip-hop"),
        ("Rock 'n' Roll", "rock and roll"),
        ("rock n roll", "rock and roll"),
        ("powerpop", "power pop"),
        ("K-Pop", "k-pop"),
        ("kpop", "k-pop"),
        ("LoFi", "lo-fi"),
        ("Heavy-Metal", "heavy metal"),
    ],
)
def test_spellings_of_one_genre_share_a_slug(raw: str, slug: str) -> None:
    assert genre_slug(raw) == slug


@pytest.mark.parametrize("raw", ["", "   ", "x" * (MAX_GENRE_LENGTH + 1)])
def test_unusable_names_have_no_slug(raw: str) -> None:
    assert genre_slug(raw) is None


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("dance pop", "Dance Pop"),
        ("r&b", "R&B"),
        ("edm", "EDM"),
        ("post-teen pop", "Post-Teen Pop"),
        ("ebm", "EBM"),
        ("k-pop", "K-Pop"),
        ("singer-songwriter", "Singer-Songwriter"),
    ],
)
def test_display_names(slug: str, name: str) -> None:
    assert genre_display_name(slug) == name
