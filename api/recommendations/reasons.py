"""Why an item is recommended, as structured parts and as English.

Every recommendation carries ``reason_parts``: a list of ``{code, params}`` that a client
translates (docs/recommendations.md lists every code and its params), and ``reason``: the
same parts rendered in English here, joined by " · ". Both come from the same parts, so they
always say the same thing.

Counts of people are always presence (``here_now``: connected to the room right now), never
members: a member is not a listener unless they are there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

ReasonParams = dict[str, str | int | float | list[str]]
Part = dict[str, Any]

SEPARATOR = " · "


def join_words(words: Sequence[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _taste(params: Mapping[str, Any]) -> str:
    return join_words([*params.get("genres", []), *params.get("artists", [])])


# code -> English template; each takes the part's params.
_ENGLISH: dict[str, Any] = {
    # tracks
    "popular_in_genres_you_like": lambda p: f"popular in {join_words(p['genres'])}, which you like",
    "popular_in_genres_you_play": lambda p: (
        f"popular in {join_words(p['genres'])}, which you play a lot"
    ),
    "popular_now": lambda p: "popular on TuneWave right now",
    "genre_you_play": lambda p: f"{p['genre']}, which you play",
    "like_item_you_play": lambda p: f"like {p['name']} you play",
    "popular_in_genre": lambda p: f"popular in {p['genre']}",
    "popular_with_listeners": lambda p: "popular with listeners",
    # people
    "shares_genres": lambda p: f"shares {join_words(p['genres'])} with you",
    "you_both_play": lambda p: f"you both play {_taste(p)}",
    "similar_listening": lambda p: "similar listening overall",
    "most_active_listener": lambda p: "one of TuneWave's most active listeners",
    "new_listener": lambda p: "new on TuneWave",
    # rooms
    "plays_like_you": lambda p: f"plays {_taste(p)}, like you",
    "plays_genres": lambda p: f"plays {join_words(p['genres'])}",
    "now_playing": lambda p: f"now playing {p['title']} by {join_words(p['artists'])}",
    "here_now": lambda p: f"{p['count']} here now",
    "room_to_discover": lambda p: "a room to discover",
    # genres to explore (GET /users/me/genres/explore)
    "listeners_also_play": lambda p: f"listeners of {p['genre']} also play {p['also']}",
    "popular_genre": lambda p: f"played by {p['listeners']} listeners on TuneWave",
    "popular_genre_to_start": lambda p: (
        f"popular on TuneWave ({p['listeners']} listeners): a start until you have plays"
    ),
    "catalog_genre": lambda p: f"{p['tracks']} tracks in TuneWave's catalog to start with",
    "taste_neighbours_play": lambda p: (
        f"{p['listeners']} listener with your taste plays {p['genre']}"
        if p["listeners"] == 1
        else f"{p['listeners']} listeners with your taste play {p['genre']}"
    ),
    # people who love a genre (GET /genres/{slug})
    "share_of_plays": lambda p: f"{p['percent']}% of what they play is {p['genre']}",
    "favourite_genre": lambda p: f"{p['genre']} is one of their favourite genres",
}

CODES = frozenset(_ENGLISH)


def part(code: str, **params: str | int | float | list[str]) -> Part:
    if code not in _ENGLISH:
        raise ValueError(f"unknown reason code {code!r}")
    return {"code": code, "params": dict(params)}


def render(parts: Sequence[Mapping[str, Any]]) -> str:
    """The English sentence of ``parts``."""
    return SEPARATOR.join(_ENGLISH[p["code"]](p["params"]) for p in parts)


# --- Parts for what the model answers --------------------------------------------------------


def _names(indices: Sequence[int], item_ids: Any, item_names: Mapping[Any, str]) -> list[str]:
    out = []
    for index in indices:
        item_id = item_ids[index]
        item_id = item_id.item() if isinstance(item_id, np.generic) else item_id
        out.append(str(item_names.get(item_id, item_id)))
    return out


def model_track_parts(
    taste_index: Any,
    items: Sequence[int],
    taste: Any,
    item_genres_cache: dict[int, list[str]] | None = None,
) -> list[list[Part]]:
    """Parts for each of one listener's model-recommended tracks (item indices): the track's
    genre the listener shares and the played item closest to it; else its genre; else its
    popularity. The same facts as ``recommender.TasteIndex.track_reason``, computed for all
    of the listener's tracks at once (their genres once, closeness in one product).
    ``item_genres_cache``: shared across listeners, since the same tracks come up for many."""
    cache = {} if item_genres_cache is None else item_genres_cache
    genres = taste_index.genres
    user_genres = set(taste.top_genres(genres, 10))
    closest = _closest_played(taste_index, list(items), taste)
    answer = []
    for item, near in zip(items, closest, strict=True):
        item_genres = cache.get(item)
        if item_genres is None:
            item_genres = cache[item] = genres.item_genres(item, 5)
        shared = [g for g in item_genres if g in user_genres]
        parts = []
        if shared:
            parts.append(part("genre_you_play", genre=shared[0]))
        if near is not None:
            name = _names([near], taste_index.interactions.item_ids, taste_index.item_names)[0]
            parts.append(part("like_item_you_play", name=name))
        if not parts:
            parts = (
                [part("popular_in_genre", genre=item_genres[0])]
                if item_genres
                else [part("popular_with_listeners")]
            )
        answer.append(parts)
    return answer


def _closest_played(taste_index: Any, items: list[int], taste: Any) -> list[int | None]:
    """For each item, the listener's played item most similar to it (item vectors, else
    shared genres), or None when nothing is similar at all."""
    played = taste.top_items(50)
    if not played or not items:
        return [None] * len(items)
    vectors = taste_index.model.item_vectors()
    if vectors is not None:
        # Imported here: scikit-learn costs seconds at an API process's start.
        from sklearn.preprocessing import normalize

        candidates = normalize(vectors[played])
        targets = vectors[items]
        norms = np.maximum(np.linalg.norm(targets, axis=1), 1e-12)
        similarity = candidates @ (targets / norms[:, None]).T
    else:
        matrix = taste_index.genres.item_matrix
        similarity = np.asarray((matrix[played] @ matrix[items].T).todense())
    best = np.argmax(similarity, axis=0)
    return [
        played[int(b)] if similarity[int(b), column] > 0 else None for column, b in enumerate(best)
    ]


def model_people_parts(taste_index: Any, row: int, other: int) -> list[Part]:
    """A model-recommended person: their shared top genres (2) and top shared artist (1)."""
    matrix = taste_index.interactions.matrix
    genres = taste_index.genres
    mine = genres.top_genres(taste_index.genre_profiles[row], 10)
    theirs = set(genres.top_genres(taste_index.genre_profiles[other], 10))
    shared_genres = [g for g in mine if g in theirs]
    both = matrix[row].multiply(matrix[other]).tocsr()
    shared_items = [int(both.indices[i]) for i in np.argsort(-both.data, kind="stable")][:1]
    artists = _names(shared_items, taste_index.interactions.item_ids, taste_index.item_names)
    if shared_genres or artists:
        return [part("you_both_play", genres=shared_genres[:2], artists=artists[:1])]
    return [part("similar_listening")]


def model_room_parts(scorer: Any, index: Any, room: int, user: Any) -> list[Part]:
    """What a model-scored room shares with the listener (genres, then an artist), else what
    it plays (``recommender.RoomScorer``: the same facts its reason uses)."""
    user_genres = user.top_genres(scorer.genres, 8)
    user_items = user.top_items(50)
    start, stop = index.genre_vectors.indptr[room : room + 2]
    room_genres = scorer.genres.top_genres(
        index.genre_vectors.data[start:stop], 8, columns=index.genre_vectors.indices[start:stop]
    )
    shared_genres = [g for g in user_genres if g in room_genres]
    start, stop = index.item_rows.indptr[room : room + 2]
    room_items = set(index.item_rows.indices[start:stop].tolist())
    shared_items = [j for j in user_items if j in room_items][:1]
    artists = _names(shared_items, scorer.item_ids, scorer.item_names)
    if shared_genres or artists:
        return [part("plays_like_you", genres=shared_genres[:2], artists=artists[:1])]
    if room_genres:
        return [part("plays_genres", genres=room_genres[:2])]
    return []
