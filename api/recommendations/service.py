"""Recommendations of tracks, people and rooms: the published model first, then fallbacks.

Tracks and people come from what the training pipeline published to Redis (see store.py).
A listener the model does not know yet (new, or no model published) gets the genre fallback
(their favourite genres, then the genres they play) and then popularity, so anyone with one
genre or one play always gets an answer. Rooms are scored live: each room's genres, the genres
of its queue and of its members, the model's vectors when there are some, and liveness.
See docs/recommendations.md.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, TypeAdapter
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Track
from api.playback.service import playback_service
from api.realtime.events import now_ms
from api.realtime.presence import Presence
from api.recommendations import store
from api.recommendations.reasons import model_room_parts, part, render
from api.recommendations.repository import PersonRow, RoomRow, recommendations_repository
from api.recommendations.schemas import (
    PersonRecommendation,
    RecommendedPerson,
    RecommendedRoom,
    RoomRecommendation,
    TrackRecommendation,
)
from api.recommendations.scoring import LoadedScorer, room_scorer
from api.tracks.repository import tracks_repository
from api.tracks.schemas import TrackBase

FALLBACK_TTL_S = 600
ROOMS_SNAPSHOT_TTL_S = 10
ROOMS_SNAPSHOT_KEY = "tunewave:reco:rooms-snapshot"
ROOMS_SNAPSHOT_ID_KEY = "tunewave:reco:rooms-snapshot:id"
POPULAR_KEY = "tunewave:reco:fallback:popular"
GENRE_TRACKS_KEY = "tunewave:reco:fallback:genre:{}"
GENRE_CANDIDATES = 100
LIVE_ROOMS_LIMIT = 500
CANDIDATES = 200
TASTE_KEY = "tunewave:reco:taste:{}"
TASTE_TTL_S = 60
FALLBACK_ANSWER_KEY = "tunewave:reco:fallback:{}:{}"
FALLBACK_ANSWER_TTL_S = 60
MAX_LIMIT = 50
TASTE_GENRES = 8


Item = TypeVar("Item", bound=BaseModel)
_TRACKS: TypeAdapter[list[TrackRecommendation]] = TypeAdapter(list[TrackRecommendation])
_PEOPLE: TypeAdapter[list[PersonRecommendation]] = TypeAdapter(list[PersonRecommendation])

# This process's copy of the latest rooms snapshot (see _rooms_snapshot).
_snapshot_cache: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Taste:
    favourites: list[str]
    # (slug, plays) of the genres the listener plays most
    listened: list[tuple[str, int]]

    @property
    def genres(self) -> list[str]:
        ordered = list(self.favourites)
        ordered.extend(slug for slug, _ in self.listened if slug not in ordered)
        return ordered[:TASTE_GENRES]

    def weights(self) -> dict[str, float]:
        """Favourites weigh 1; played genres their share of the most played one."""
        weights = {slug: 1.0 for slug in self.favourites}
        top = max((plays for _, plays in self.listened), default=0)
        for slug, plays in self.listened:
            weights[slug] = max(weights.get(slug, 0.0), plays / top if top else 0.0)
        return weights


def track_payload(track: Track) -> dict[str, Any]:
    """The wire ``TrackBase`` of a track with artists and genres loaded, as JSON-ready data
    (what the published model and the fallback caches in Redis hold)."""
    return TrackBase.from_track(track).model_dump(mode="json")


class RecommendationsService:
    async def taste(
        self, session: AsyncSession, user_id: uuid.UUID, redis: Redis | None = None
    ) -> Taste:
        """Favourite and most played genres; cached in Redis for ``TASTE_TTL_S``."""
        key = TASTE_KEY.format(user_id)
        if redis is not None:
            cached = await redis.get(key)
            if cached is not None:
                favourites, listened = json.loads(cached)
                return Taste(favourites, [(slug, plays) for slug, plays in listened])
        taste = Taste(
            favourites=await recommendations_repository.favourite_genres(session, user_id),
            listened=await recommendations_repository.listened_genres(session, user_id, 5),
        )
        if redis is not None:
            await redis.set(key, json.dumps([taste.favourites, taste.listened]), ex=TASTE_TTL_S)
        return taste

    # --- tracks ------------------------------------------------------------------------------

    async def tracks(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID, limit: int
    ) -> tuple[list[TrackRecommendation], str | None]:
        version = await store.live_version(redis)
        if version is not None:
            published = await store.user_entry(redis, version, "tracks", str(user_id))
            if published:
                return [
                    TrackRecommendation.model_validate(
                        {**item, "reason_parts": item.get("reason_parts", []), "basis": "model"}
                    )
                    for item in published[:limit]
                ], version
        answer = await self._cached_answer(
            redis,
            "tracks",
            user_id,
            _TRACKS,
            lambda: self._fallback_tracks(session, redis, user_id),
        )
        return answer[:limit], None

    async def _cached_answer(
        self,
        redis: Redis,
        kind: str,
        user_id: uuid.UUID,
        adapter: TypeAdapter[list[Item]],
        compute: Callable[[], Awaitable[list[Item]]],
    ) -> list[Item]:
        """A fallback answer (computed for the largest limit) kept for a minute per user:
        the fallback reads several tables, and a listener pages through it quickly."""
        key = FALLBACK_ANSWER_KEY.format(kind, user_id)
        cached = await redis.get(key)
        if cached is not None:
            return adapter.validate_json(cached)
        answer = await compute()
        await redis.set(key, adapter.dump_json(answer), ex=FALLBACK_ANSWER_TTL_S)
        return answer

    async def _fallback_tracks(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID, limit: int = MAX_LIMIT
    ) -> list[TrackRecommendation]:
        taste = await self.taste(session, user_id, redis)
        candidates: list[dict[str, Any]] = []
        if taste.genres:
            candidates.extend(await self._genre_candidates(session, redis, taste))
        candidates.extend(await self._popular_candidates(session, redis))
        played = await recommendations_repository.played_among(
            session, user_id, [uuid.UUID(item["id"]) for item in candidates]
        )
        favourites = set(taste.favourites)
        items: list[TrackRecommendation] = []
        seen: set[str] = set()
        for item in candidates:
            if item["id"] in seen or uuid.UUID(item["id"]) in played:
                continue
            seen.add(item["id"])
            matched = item.get("matched") or []
            if matched:
                liked = [slug for slug in matched if slug in favourites]
                code = "popular_in_genres_you_like" if liked else "popular_in_genres_you_play"
                parts = [part(code, genres=matched[:2])]
                basis = "genres"
                score = len(matched) / max(len(taste.genres), 1)
            else:
                parts = [part("popular_now")]
                basis = "popular"
                score = 0.0
            items.append(
                TrackRecommendation.model_validate(
                    {
                        "track": item["track"],
                        "score": round(score, 4),
                        "reason": render(parts),
                        "reason_parts": parts,
                        "basis": basis,
                    }
                )
            )
            if len(items) == limit:
                break
        return items

    async def _genre_candidates(
        self, session: AsyncSession, redis: Redis, taste: Taste
    ) -> list[dict[str, Any]]:
        """The most popular tracks of each of the listener's genres, those matching more of
        their genres first. Each genre's list is cached on its own, so listeners with
        different genre mixes share the work."""
        slugs = taste.genres
        keys = [GENRE_TRACKS_KEY.format(slug) for slug in slugs]
        cached = await redis.mget(keys)
        by_genre: dict[str, list[dict[str, Any]]] = {
            slug: json.loads(raw) for slug, raw in zip(slugs, cached, strict=True) if raw
        }
        missing = [slug for slug in slugs if slug not in by_genre]
        if missing:
            rows = await recommendations_repository.top_tracks_per_genre(
                session, missing, GENRE_CANDIDATES
            )
            tracks = await tracks_repository.with_credits(
                session, [track_id for _, track_id, _ in rows]
            )
            fresh: dict[str, list[dict[str, Any]]] = {slug: [] for slug in missing}
            for slug, track_id, popularity in rows:
                if track_id in tracks:
                    fresh[slug].append(
                        {
                            "id": str(track_id),
                            "track": track_payload(tracks[track_id]),
                            "popularity": popularity or 0,
                        }
                    )
            async with redis.pipeline(transaction=False) as pipe:
                for slug, candidates in fresh.items():
                    pipe.set(
                        GENRE_TRACKS_KEY.format(slug), json.dumps(candidates), ex=FALLBACK_TTL_S
                    )
                await pipe.execute()
            by_genre.update(fresh)
        merged: dict[str, dict[str, Any]] = {}
        for slug in slugs:
            for candidate in by_genre.get(slug, []):
                merged.setdefault(candidate["id"], candidate)
        wanted = set(slugs)
        ranked = [
            {**candidate, "matched": [g for g in candidate["track"]["genres"] if g in wanted]}
            for candidate in merged.values()
        ]
        ranked.sort(key=lambda c: (-len(c["matched"]), -c["popularity"], c["id"]))
        return ranked

    async def _popular_candidates(
        self, session: AsyncSession, redis: Redis
    ) -> list[dict[str, Any]]:
        cached = await redis.get(POPULAR_KEY)
        if cached is not None:
            return list(json.loads(cached))
        track_ids = await recommendations_repository.popular_tracks(session, CANDIDATES)
        tracks = await tracks_repository.with_credits(session, track_ids)
        candidates = [
            {"id": str(track_id), "track": track_payload(tracks[track_id]), "matched": []}
            for track_id in track_ids
            if track_id in tracks
        ]
        await redis.set(POPULAR_KEY, json.dumps(candidates), ex=FALLBACK_TTL_S)
        return candidates

    # --- people ------------------------------------------------------------------------------

    async def people(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID, limit: int
    ) -> tuple[list[PersonRecommendation], str | None]:
        items, version = await self.published_people(session, redis, user_id)
        if items:
            return items[:limit], version
        answer = await self._cached_answer(
            redis,
            "users",
            user_id,
            _PEOPLE,
            lambda: self._fallback_people(session, redis, user_id),
        )
        return answer[:limit], None

    async def published_people(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID
    ) -> tuple[list[PersonRecommendation], str | None]:
        """The listener's people from the published model (its top ``TOP_PEOPLE``, closest
        first, ``score`` their taste similarity) with the model's version; none (and no
        version) when no model is published or it does not know them. No fallback."""
        version = await store.live_version(redis)
        if version is None:
            return [], None
        published = await store.user_entry(redis, version, "users", str(user_id))
        if not published:
            return [], None
        ids = [uuid.UUID(item["user_id"]) for item in published]
        people = await recommendations_repository.people(session, ids)
        items = [
            PersonRecommendation.model_validate(
                {
                    "user": self._person(people[uuid.UUID(item["user_id"])]),
                    "score": item["score"],
                    "reason": item["reason"],
                    "reason_parts": item.get("reason_parts", []),
                    "shared_genres": item.get("shared_genres", []),
                    "basis": "model",
                }
            )
            # People deleted since the model was published are left out.
            for item in published
            if uuid.UUID(item["user_id"]) in people
        ]
        return items, (version if items else None)

    async def _fallback_people(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID, limit: int = MAX_LIMIT
    ) -> list[PersonRecommendation]:
        taste = await self.taste(session, user_id, redis)
        items: list[PersonRecommendation] = []
        seen: set[uuid.UUID] = set()
        if taste.genres:
            weights = taste.weights()
            total = sum(weights.values()) or 1.0
            for row in await recommendations_repository.people_sharing(
                session, user_id, taste.genres, limit
            ):
                seen.add(row.id)
                score = sum(weights.get(slug, 0.0) for slug in row.shared) / total
                parts = [part("shares_genres", genres=row.shared[:3])]
                items.append(
                    PersonRecommendation.model_validate(
                        {
                            "user": self._person(
                                (row.id, row.display_name, row.avatar_url, row.is_demo)
                            ),
                            "score": round(score, 4),
                            "reason": render(parts),
                            "reason_parts": parts,
                            "shared_genres": row.shared,
                            "basis": "genres",
                        }
                    )
                )
        if len(items) < limit:
            for row in await recommendations_repository.active_listeners(
                session, user_id, limit + len(seen)
            ):
                if row.id in seen:
                    continue
                parts = [part("most_active_listener" if row.weight else "new_listener")]
                items.append(
                    PersonRecommendation.model_validate(
                        {
                            "user": self._person(
                                (row.id, row.display_name, row.avatar_url, row.is_demo)
                            ),
                            "score": 0.0,
                            "reason": render(parts),
                            "reason_parts": parts,
                            "shared_genres": [],
                            "basis": "popular",
                        }
                    )
                )
                if len(items) == limit:
                    break
        return items

    def _person_row(self, row: PersonRow) -> RecommendedPerson:
        return self._person((row.id, row.display_name, row.avatar_url, row.is_demo))

    @staticmethod
    def _person(row: tuple[uuid.UUID, str, str | None, bool]) -> RecommendedPerson:
        return RecommendedPerson(id=row[0], display_name=row[1], avatar_url=row[2], is_demo=row[3])

    # --- rooms -------------------------------------------------------------------------------

    async def rooms(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID, limit: int
    ) -> tuple[list[RoomRecommendation], str | None]:
        snapshot_id, snapshot = await self._rooms_snapshot(session, redis)
        taste = await self.taste(session, user_id, redis)
        user_key = str(user_id)
        version = await store.live_version(redis)
        loaded = await room_scorer(redis, version) if version is not None else None
        if loaded is not None and snapshot:
            return self._model_rooms(loaded, snapshot_id, snapshot, taste, user_key, limit), version
        weights = taste.weights()
        scored = [
            self._score_room(room, weights, user_key)
            for room in snapshot
            # Private rooms only for their members: nobody else could get in.
            if not room["is_private"] or user_key in room["member_ids"]
        ]
        # Rooms you are not in yet come first; your own rooms fill up the rest.
        scored.sort(key=lambda item: (item[2], -item[0], item[1].room.name))
        return [item[1] for item in scored[:limit]], None

    def _model_rooms(
        self,
        loaded: LoadedScorer,
        snapshot_id: str,
        snapshot: list[dict[str, Any]],
        taste: Taste,
        user_key: str,
        limit: int,
    ) -> list[RoomRecommendation]:
        """The package's room scoring: the user's vector against each room's items and
        members, genre profiles, and liveness. The rooms' index is built once per snapshot
        and version in each process; reasons are written for the rooms returned only."""
        # Imported here: see api/recommendations/scoring.py.
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        from recommender import LiveRoom, UserTaste

        scorer = loaded.scorer
        index = loaded.index_for(
            snapshot_id,
            lambda: scorer.index(
                [
                    LiveRoom(
                        room_id=room["id"],
                        item_ids=room["track_ids"],
                        now_playing_item_id=room["now_playing_id"],
                        member_ids=room["member_ids"],
                        genres=room["genres"],
                        listeners_now=room["online_count"],
                        is_playing=room["now_playing"] is not None,
                    )
                    for room in snapshot
                ]
            ),
        )
        genres = taste.genres
        profile = normalize(scorer.genres.genre_vectors([genres])) if genres else None
        if profile is None or profile.nnz == 0:
            profile = sp.csr_matrix((1, scorer.genres.n_genres), dtype=np.float32)
        user = UserTaste(vector=loaded.user_vector(user_key), genre_profile=sp.csr_matrix(profile))
        scores = scorer.score(index, user)
        member = np.array([user_key in room["member_ids"] for room in snapshot], dtype=bool)
        hidden = np.array([room["is_private"] for room in snapshot], dtype=bool) & ~member
        # Not yours first (best first), then your own rooms; hidden ones never.
        order = np.lexsort((-scores, member))
        chosen = [int(r) for r in order if not hidden[r]][:limit]
        items = []
        for position in chosen:
            room = snapshot[position]
            parts = model_room_parts(scorer, index, position, user)
            parts.extend(self._live_parts(room, discover=not parts))
            items.append(self._room_item(room, float(scores[position]), parts, "model"))
        return items

    @staticmethod
    def _live_parts(room: dict[str, Any], *, discover: bool) -> list[dict[str, Any]]:
        """What plays and who is there now (presence, never members); ``discover``: say that
        the room is one to discover when there is nothing else to say."""
        parts = []
        if room["now_playing"]:
            now = room["now_playing"]
            parts.append(part("now_playing", title=now["title"], artists=now["artists"][:2]))
        if room["online_count"] > 0:
            parts.append(part("here_now", count=room["online_count"]))
        if discover and not parts:
            parts.append(part("room_to_discover"))
        return parts

    @staticmethod
    def _room_item(
        room: dict[str, Any], score: float, parts: list[dict[str, Any]], basis: str
    ) -> RoomRecommendation:
        """A room of the snapshot (see ``_profile_rooms``) as recommended."""
        return RoomRecommendation.model_validate(
            {
                "room": RecommendedRoom.from_snapshot(room),
                "score": round(score, 4),
                "reason": render(parts),
                "reason_parts": parts,
                "basis": basis,
            }
        )

    def _score_room(
        self, room: dict[str, Any], weights: dict[str, float], user_key: str
    ) -> tuple[float, RoomRecommendation, bool]:
        """Without a model: the room's genre profile against the listener's, plus liveness."""
        # The room's genres fully, its queue's and members' genres by their share.
        profile: dict[str, float] = {slug: 1.0 for slug in room["genres"]}
        for source in ("track_genres", "member_genres"):
            counts: dict[str, int] = room[source]
            top = max(counts.values(), default=0)
            for slug, count in counts.items():
                profile[slug] = max(profile.get(slug, 0.0), 0.8 * count / top)
        overlap = {
            slug: weights[slug] * value for slug, value in profile.items() if slug in weights
        }
        # Cosine-like: a room or a listener with many genres does not win by breadth alone.
        norm = math.sqrt(len(profile) or 1) * math.sqrt(len(weights) or 1)
        genre_score = sum(overlap.values()) / norm
        # Liveness is who is there now (presence) and whether it plays, never its members.
        here = room["online_count"]
        liveness = 0.1 * math.log1p(here) + (0.15 if room["now_playing"] else 0.0)
        score = genre_score + liveness
        shared = [slug for slug, _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0]))]
        parts = []
        if shared:
            parts.append(part("plays_like_you", genres=shared[:2], artists=[]))
        parts.extend(self._live_parts(room, discover=not shared))
        basis = "genres" if shared else "popular"
        return (
            score,
            self._room_item(room, score, parts, basis),
            (user_key in room["member_ids"]),
        )

    async def live_rooms(self, session: AsyncSession, redis: Redis) -> list[dict[str, Any]]:
        """The live rooms with what they play now, their genres and presence counts (the
        snapshot room recommendations score, at most ``ROOMS_SNAPSHOT_TTL_S`` old)."""
        _, rooms = await self._rooms_snapshot(session, redis)
        return rooms

    async def _rooms_snapshot(
        self, session: AsyncSession, redis: Redis
    ) -> tuple[str, list[dict[str, Any]]]:
        """(id, rooms): the live rooms with their genre profiles, shared by every request
        for a few seconds. A few statements build it; after that each request reads only the
        snapshot's id from Redis, and the rooms themselves once per process and snapshot."""
        raw_id = await redis.get(ROOMS_SNAPSHOT_ID_KEY)
        if raw_id is not None:
            snapshot_id = str(raw_id)
            if _snapshot_cache.get("id") == snapshot_id:
                return snapshot_id, _snapshot_cache["rooms"]
            cached = await redis.get(ROOMS_SNAPSHOT_KEY)
            if cached is not None:
                body = json.loads(cached)
                if body["id"] == snapshot_id:
                    _snapshot_cache.update(id=snapshot_id, rooms=body["rooms"])
                    return snapshot_id, list(body["rooms"])
        # Demo rooms play on the clock whether anybody looked: bring them up to it, so what
        # the snapshot says they play is what plays.
        for demo_room_id in await recommendations_repository.demo_room_ids(session):
            await playback_service.current(session, redis, demo_room_id)
        rooms = await recommendations_repository.live_rooms(session, LIVE_ROOMS_LIMIT)
        snapshot = await self._profile_rooms(session, rooms)
        online = await Presence(redis, 0).counts([room["id"] for room in snapshot], now_ms())
        for room in snapshot:
            room["online_count"] = online.get(room["id"], 0)
        snapshot_id = uuid.uuid4().hex
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(
                ROOMS_SNAPSHOT_KEY,
                json.dumps({"id": snapshot_id, "rooms": snapshot}),
                ex=ROOMS_SNAPSHOT_TTL_S,
            )
            pipe.set(ROOMS_SNAPSHOT_ID_KEY, snapshot_id, ex=ROOMS_SNAPSHOT_TTL_S)
            await pipe.execute()
        return snapshot_id, snapshot

    async def _profile_rooms(
        self, session: AsyncSession, rooms: list[RoomRow]
    ) -> list[dict[str, Any]]:
        track_ids = {t for room in rooms for t in room.track_ids}
        member_ids = {m for room in rooms for m in room.member_ids}
        track_genres = await recommendations_repository.genres_of_tracks(session, list(track_ids))
        member_genres = await recommendations_repository.favourite_genres_of(
            session, list(member_ids)
        )
        playing_ids = [room.now_playing_id for room in rooms if room.now_playing_id]
        playing = await tracks_repository.with_credits(session, playing_ids)
        snapshot = []
        for room in rooms:
            tracks_count: dict[str, int] = {}
            for track_id in room.track_ids:
                for slug in track_genres.get(track_id, []):
                    tracks_count[slug] = tracks_count.get(slug, 0) + 1
            members_count: dict[str, int] = {}
            for member_id in room.member_ids:
                for slug in member_genres.get(member_id, []):
                    members_count[slug] = members_count.get(slug, 0) + 1
            now = playing.get(room.now_playing_id) if room.now_playing_id else None
            snapshot.append(
                {
                    "id": str(room.id),
                    "name": room.name,
                    "description": room.description,
                    "is_private": room.is_private,
                    "genres": room.genres,
                    "member_ids": [str(m) for m in room.member_ids],
                    "member_count": room.member_count,
                    "is_demo": room.is_demo,
                    "track_ids": [str(t) for t in room.track_ids],
                    "now_playing_id": str(room.now_playing_id) if room.now_playing_id else None,
                    "track_genres": tracks_count,
                    "member_genres": members_count,
                    "now_playing": track_payload(now) if now is not None else None,
                }
            )
        return snapshot


recommendations_service = RecommendationsService()
