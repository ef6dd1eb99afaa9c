"""Serving-side scoring: tracks, live rooms and people for one user, each with a reason.

Everything here takes arrays (vectors, sparse rows, id lists) so the API can call it with
what the training pipeline published, and the worker can call it with a fitted model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.data import Interactions
from recommender.genres import GenreSpace
from recommender.models.base import Recommender
from recommender.models.baselines import keep_top_k_per_row
from recommender.people import PeopleTaste, TasteParams


@dataclass(frozen=True)
class Recommendation:
    """One recommended track, room or person: its id, a score (higher = better) and a reason."""

    id: Any
    score: float
    reason: str


@dataclass(frozen=True)
class UserTaste:
    """What scoring needs about one listener.

    ``vector``: the model's user vector (None for a model without vectors, or no model);
    ``genre_profile``: ``(1, n_genres)`` L2-normalised row in the :class:`GenreSpace`;
    ``item_weights``: item index → how much they played it (what reasons may name).
    """

    vector: np.ndarray | None
    genre_profile: sp.csr_matrix
    item_weights: dict[int, float] = field(default_factory=dict)

    def top_genres(self, genres: GenreSpace, k: int = 5) -> list[str]:
        return genres.top_genres(self.genre_profile, k)

    def top_items(self, k: int = 20) -> list[int]:
        return [i for i, _ in sorted(self.item_weights.items(), key=lambda kv: -kv[1])[:k]]


@dataclass(frozen=True)
class LiveRoom:
    """A room as the recommender sees it right now.

    ``item_ids``: the queue and the now-playing item (ids of the trained catalogue; unknown
    ids are ignored); ``member_ids``: users in the room now; ``genres``: the room's declared
    genres; ``listeners_now`` and ``is_playing`` feed liveness.
    """

    room_id: Any
    item_ids: Sequence[Any] = ()
    now_playing_item_id: Any | None = None
    member_ids: Sequence[Any] = ()
    genres: Sequence[str] = ()
    listeners_now: int = 0
    is_playing: bool = False


@dataclass(frozen=True)
class RoomWeights:
    """A room's score: ``taste·cos(user, room) + genre·cos(genre profiles) + live·liveness``."""

    taste: float = 0.5
    genre: float = 0.35
    live: float = 0.15
    now_playing_boost: float = 2.0  # the now-playing item counts this many queue items
    item_genres: int = 5  # genres of each played item that count towards a room's genres


@dataclass(frozen=True)
class RoomIndex:
    """Vectors of many live rooms, built once and scored against any number of users."""

    rooms: Sequence[LiveRoom]
    taste_vectors: np.ndarray | None  # (n_rooms, dim), L2-normalised; zero rows = no signal
    genre_vectors: sp.csr_matrix  # (n_rooms, n_genres), L2-normalised
    liveness: np.ndarray  # (n_rooms,) in [0, 1]
    item_rows: sp.csr_matrix  # (n_rooms, n_items) which catalogue items each room plays


def liveness(listeners_now: np.ndarray, is_playing: np.ndarray) -> np.ndarray:
    """``[0, 1]``: log-scaled listeners relative to the busiest room, halved when nothing plays."""
    listeners = np.log1p(np.maximum(np.asarray(listeners_now, dtype=np.float64), 0))
    top = listeners.max() if listeners.size else 0.0
    scaled = listeners / top if top > 0 else np.zeros_like(listeners)
    return (scaled * np.where(np.asarray(is_playing, dtype=bool), 1.0, 0.5)).astype(np.float32)


def _names(
    indices: Sequence[int], item_ids: np.ndarray, item_names: Mapping[Any, str]
) -> list[str]:
    out = []
    for index in indices:
        item_id = item_ids[index]
        item_id = item_id.item() if isinstance(item_id, np.generic) else item_id
        out.append(str(item_names.get(item_id, item_id)))
    return out


def _join(words: Sequence[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def shared_taste_phrase(genres: Sequence[str], artists: Sequence[str]) -> str:
    """``"shoegaze and Slowdive"`` from shared genres and artists (up to two genres, one artist)."""
    return _join([*genres[:2], *artists[:1]])


def _positions(index: pd.Index, ids: Sequence[Any]) -> np.ndarray:
    """Position of each id in ``index``, -1 for unknown ids."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    # Numeric ids as one array (fast); anything else (UUID strings) as given.
    values = np.asarray(ids) if index.dtype.kind in "iuf" else list(ids)
    return np.asarray(index.get_indexer(values), dtype=np.int64)


class RoomScorer:
    """Scores live rooms for a user from item vectors, user vectors and the genre space.

    A room's taste vector is the normalised mean of its items' vectors (the now-playing item
    weighted ``now_playing_boost``) plus the mean of its members' vectors; its genre vector
    mixes its declared genres with the genres of what it plays. With no vectors (no model
    yet) rooms are scored by genres and liveness alone.
    """

    def __init__(
        self,
        item_ids: np.ndarray,
        genres: GenreSpace,
        item_vectors: np.ndarray | None = None,
        user_ids: np.ndarray | None = None,
        user_vectors: np.ndarray | None = None,
        item_names: Mapping[Any, str] | None = None,
        weights: RoomWeights | None = None,
    ) -> None:
        self.item_ids = np.asarray(item_ids)
        self.genres = genres
        self.item_vectors = None if item_vectors is None else normalize(item_vectors)
        self.user_vectors = None if user_vectors is None else normalize(user_vectors)
        self.item_names: Mapping[Any, str] = {} if item_names is None else item_names
        self.weights = weights or RoomWeights()
        # An item's few strongest genres carry its character; its long tail of tags would
        # only cost time when 10,000 rooms are built and scored.
        self._item_genres = sp.csr_matrix(
            normalize(keep_top_k_per_row(genres.item_matrix, self.weights.item_genres)),
            dtype=np.float32,
        )
        self._item_index = pd.Index(self.item_ids)
        self._user_index = pd.Index(np.asarray(user_ids) if user_ids is not None else [])

    def index(self, rooms: Sequence[LiveRoom]) -> RoomIndex:
        """Build the vectors of ``rooms``: id lookups and sparse products, no per-room math."""
        n_rooms = len(rooms)
        n_items = len(self.item_ids)
        queue_counts = [len(room.item_ids) for room in rooms]
        queue_ids = [item_id for room in rooms for item_id in room.item_ids]
        queue = self._incidence(
            np.repeat(np.arange(n_rooms), queue_counts),
            self._items_index(queue_ids),
            (n_rooms, n_items),
        )
        playing_rooms = [r for r, room in enumerate(rooms) if room.now_playing_item_id is not None]
        playing = self._incidence(
            np.asarray(playing_rooms, dtype=np.int64),
            self._items_index([rooms[r].now_playing_item_id for r in playing_rooms]),
            (n_rooms, n_items),
        )
        item_rows = sp.csr_matrix(
            queue.maximum(playing * self.weights.now_playing_boost), dtype=np.float32
        )
        member_counts = [len(room.member_ids) for room in rooms]
        member_ids = [user_id for room in rooms for user_id in room.member_ids]
        members = self._incidence(
            np.repeat(np.arange(n_rooms), member_counts),
            self._users_index(member_ids),
            (n_rooms, len(self._user_index)),
        )
        taste = None
        if self.item_vectors is not None:
            taste = np.asarray(normalize(item_rows, norm="l1") @ self.item_vectors)
            # Users and items share the factor space in ALS/BPR.
            if (
                self.user_vectors is not None
                and self.user_vectors.shape[1] == self.item_vectors.shape[1]
            ):
                taste = taste + np.asarray(normalize(members, norm="l1") @ self.user_vectors)
            taste = normalize(taste).astype(np.float32)
        declared = self.genres.genre_vectors([list(r.genres) for r in rooms])
        played = sp.csr_matrix(normalize(item_rows @ self._item_genres))
        genre_vectors = sp.csr_matrix(normalize(declared + played), dtype=np.float32)
        live = liveness(
            np.array([r.listeners_now for r in rooms]), np.array([r.is_playing for r in rooms])
        )
        return RoomIndex(rooms, taste, genre_vectors, live, item_rows)

    def _items_index(self, ids: Sequence[Any]) -> np.ndarray:
        return _positions(self._item_index, ids)

    def _users_index(self, ids: Sequence[Any]) -> np.ndarray:
        return _positions(self._user_index, ids)

    @staticmethod
    def _incidence(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
        """0/1 rows x columns matrix from pairs; pairs with column -1 (unknown id) dropped."""
        keep = columns >= 0
        matrix = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], columns[keep])),
            shape=shape,
        )
        matrix.data[:] = 1.0  # an item queued twice counts once
        return matrix

    def score(self, index: RoomIndex, user: UserTaste) -> np.ndarray:
        """``(n_rooms,)`` scores of every room for ``user``."""
        w = self.weights
        profile = np.asarray(user.genre_profile.todense(), dtype=np.float32).ravel()
        genre = index.genre_vectors @ profile
        total = w.genre * genre + w.live * index.liveness
        if index.taste_vectors is not None and user.vector is not None:
            norm = float(np.linalg.norm(user.vector))
            if norm > 0:
                total = total + w.taste * (index.taste_vectors @ (user.vector / norm))
        return total.astype(np.float32)

    def recommend(self, index: RoomIndex, user: UserTaste, k: int = 10) -> list[Recommendation]:
        """The ``k`` best rooms for ``user``, best first, each with a reason."""
        scores = self.score(index, user)
        k = min(k, len(scores))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        user_genres = user.top_genres(self.genres, 8)
        user_items = user.top_items(50)
        return [
            Recommendation(
                index.rooms[r].room_id,
                float(scores[r]),
                self.reason(index, int(r), user, user_genres, user_items),
            )
            for r in top
        ]

    def reason(
        self,
        index: RoomIndex,
        room: int,
        user: UserTaste,
        user_genres: Sequence[str] | None = None,
        user_items: Sequence[int] | None = None,
    ) -> str:
        """Why this room: shared genres and artists, else what it plays, else how live it is.

        ``user_genres`` / ``user_items`` (the user's top genres and items) may be passed in
        when explaining many rooms for one user.
        """
        live_room = index.rooms[room]
        if user_genres is None:
            user_genres = user.top_genres(self.genres, 8)
        if user_items is None:
            user_items = user.top_items(50)
        start, stop = index.genre_vectors.indptr[room : room + 2]
        room_genres = self.genres.top_genres(
            index.genre_vectors.data[start:stop], 8, columns=index.genre_vectors.indices[start:stop]
        )
        shared_genres = [g for g in user_genres if g in room_genres]
        start, stop = index.item_rows.indptr[room : room + 2]
        room_items = set(index.item_rows.indices[start:stop].tolist())
        shared_items = [j for j in user_items if j in room_items]
        shared_artists = _names(shared_items, self.item_ids, self.item_names)
        if shared_genres or shared_artists:
            return f"plays {shared_taste_phrase(shared_genres, shared_artists)}, like you"
        if room_genres:
            return f"plays {_join(room_genres[:2])}"
        if live_room.listeners_now:
            return f"{live_room.listeners_now} listening now"
        return "a room you have not tried yet"


def user_taste(
    user_items: sp.csr_matrix,
    genres: GenreSpace,
    model: Recommender | None = None,
    user_row: int = -1,
    favourite_genres: Sequence[str] = (),
) -> UserTaste:
    """A listener's taste from their interaction row (and declared favourite genres).

    ``user_row`` is their row in the model's training matrix (-1: fold in from the row).
    A user with no plays but favourite genres still gets a genre profile.
    """
    row = sp.csr_matrix(user_items)[:1]
    profile = genres.profiles(row)
    if favourite_genres:
        profile = sp.csr_matrix(normalize(profile + genres.genre_vectors([list(favourite_genres)])))
    vector = None
    if model is not None and (row.nnz or user_row >= 0):
        vectors = model.user_vectors(row, np.array([user_row]))
        vector = None if vectors is None else vectors[0]
    weights = {int(j): float(w) for j, w in zip(row.indices, row.data, strict=True)}
    return UserTaste(vector=vector, genre_profile=sp.csr_matrix(profile), item_weights=weights)


class TasteIndex:
    """A fitted model plus the training data and genres: tracks and people for known users.

    This is what the training pipeline builds after fitting, to write each user's top tracks
    and people (with reasons) to Redis; notebooks use it to look at answers.
    """

    def __init__(
        self,
        model: Recommender,
        interactions: Interactions,
        genres: GenreSpace,
        item_names: Mapping[Any, str] | None = None,
        people_params: TasteParams | None = None,
    ) -> None:
        self.model = model
        self.interactions = interactions
        self.genres = genres
        self.item_names: Mapping[Any, str] = {} if item_names is None else item_names
        matrix = interactions.matrix
        vectors = model.user_vectors(matrix, np.arange(matrix.shape[0]))
        self.user_vectors = None if vectors is None else normalize(vectors).astype(np.float32)
        self.genre_profiles = genres.profiles(matrix)
        # People: the same fitted similarity as recommender.people.people_scores("taste").
        self.people_taste = PeopleTaste.fit(matrix, genres, people_params)
        self._listeners = np.diff(sp.csc_matrix(matrix).indptr).astype(np.float32)

    def taste(self, user_id: Any, favourite_genres: Sequence[str] = ()) -> UserTaste:
        row = int(self.interactions.user_index([user_id])[0])
        if row < 0:
            empty = sp.csr_matrix((1, self.interactions.n_items), dtype=np.float32)
            return user_taste(empty, self.genres, None, -1, favourite_genres)
        return user_taste(
            self.interactions.matrix[row], self.genres, self.model, row, favourite_genres
        )

    def tracks(self, user_id: Any, k: int = 10) -> list[Recommendation]:
        """Top-``k`` items the user has not played, each with a reason."""
        row = int(self.interactions.user_index([user_id])[0])
        taste = self.taste(user_id)
        if row < 0 or self.interactions.matrix[row].nnz == 0:
            # Nothing to personalise from: the most-listened items, said as such.
            order = np.argsort(-self._listeners, kind="stable")[:k]
            return [
                Recommendation(
                    self._item_id(j), float(self._listeners[j]), self.track_reason(j, taste)
                )
                for j in order
            ]
        indices, scores = self.model.recommend(self.interactions.matrix[row], np.array([row]), k=k)
        return [
            Recommendation(self._item_id(j), float(s), self.track_reason(j, taste))
            for j, s in zip(indices[0], scores[0], strict=True)
            if j >= 0
        ]

    def track_reason(self, item: int, taste: UserTaste) -> str:
        """``"shoegaze, like Slowdive you play"``: the item's genre the user shares and the
        played item closest to it; ``"popular with listeners"`` when nothing is shared."""
        item_genres = self.genres.item_genres(item, 5)
        user_genres = taste.top_genres(self.genres, 10)
        shared = [g for g in item_genres if g in user_genres]
        closest = self._closest_played(item, taste)
        parts = []
        if shared:
            parts.append(shared[0])
        if closest is not None:
            name = _names([closest], self.interactions.item_ids, self.item_names)[0]
            parts.append(f"like {name} you play")
        if parts:
            return ", ".join(parts)
        if item_genres:
            return f"popular in {item_genres[0]}"
        return "popular with listeners"

    def _closest_played(self, item: int, taste: UserTaste) -> int | None:
        played = taste.top_items(50)
        if not played:
            return None
        vectors = self.model.item_vectors()
        if vectors is not None:
            candidates = normalize(vectors[played])
            target = vectors[item] / max(float(np.linalg.norm(vectors[item])), 1e-12)
            similarity = candidates @ target
        else:
            item_genres = self.genres.item_matrix
            similarity = np.asarray((item_genres[played] @ item_genres[item].T).todense()).ravel()
        best = int(np.argmax(similarity))
        return played[best] if similarity[best] > 0 else None

    def people(
        self, user_id: Any, k: int = 10, exclude: Sequence[Any] = ()
    ) -> list[Recommendation]:
        """Users closest in taste: :class:`recommender.people.PeopleTaste`, the similarity
        of ``people_scores(..., method="taste")``."""
        row = int(self.interactions.user_index([user_id])[0])
        if row < 0:
            return []
        scores = self.people_taste.scores(np.array([row]))[0]
        scores[row] = -np.inf
        excluded = self.interactions.user_index(list(exclude))
        scores[excluded[excluded >= 0]] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [
            Recommendation(
                self._user_id(other), float(scores[other]), self.people_reason(row, other)
            )
            for other in top
        ]

    def people_reason(self, row: int, other: int) -> str:
        """``"you both play shoegaze and Slowdive"``: shared top genres and top shared artist."""
        matrix = self.interactions.matrix
        mine = self.genres.top_genres(self.genre_profiles[row], 10)
        theirs = set(self.genres.top_genres(self.genre_profiles[other], 10))
        shared_genres = [g for g in mine if g in theirs]
        both = matrix[row].multiply(matrix[other]).tocsr()
        shared_items = [int(both.indices[i]) for i in np.argsort(-both.data, kind="stable")]
        artists = _names(shared_items, self.interactions.item_ids, self.item_names)
        if shared_genres or artists:
            return f"you both play {shared_taste_phrase(shared_genres, artists)}"
        return "similar listening overall"

    def _item_id(self, index: int) -> Any:
        value = self.interactions.item_ids[index]
        return value.item() if isinstance(value, np.generic) else value

    def _user_id(self, index: int) -> Any:
        value = self.interactions.user_ids[index]
        return value.item() if isinstance(value, np.generic) else value
