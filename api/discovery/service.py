"""Genre pages and genres to explore. See docs/genres.md.

A genre page gathers what TuneWave knows about one genre: the public rooms playing it now or
tagged with it (the recommendations' live-rooms snapshot), its top tracks (plays on TuneWave
in the last 30 days, then catalog popularity), the listeners whose listening it weighs most,
and its neighbours in the genre graph. Genres to explore are first the genres the listener's
nearest people by taste play (their published people recommendations,
``recommender.explore.explore_from_neighbours``), then genres next to their taste in the
co-listening graph (``recommender.explore.GenreGraph``), then popular ones: the code the
offline measurement (``bench/recommender.py --only explore``) scores.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.exceptions import NotFound
from api.discovery import graph as graph_store
from api.discovery.repository import GenreFan, discovery_repository
from api.discovery.schemas import (
    ExploreBasis,
    GenreFanItem,
    GenrePage,
    GenreRef,
    GenreRoom,
    GenresToExplore,
    GenreToExplore,
    GenreTrack,
    GraphSource,
)
from api.genres.service import genres_service
from api.genres.vocabulary import genre_display_name, genre_slug
from api.recommendations.reasons import part, render
from api.recommendations.repository import recommendations_repository
from api.recommendations.schemas import ReasonPart, RecommendedPerson, RecommendedRoom
from api.recommendations.service import recommendations_service
from api.tracks.repository import tracks_repository
from api.tracks.schemas import TrackBase
from recommender.explore import (
    GenreGraph,
    GenreSuggestion,
    explore_from_neighbours,
    fit_genre_graph,
)

logger = logging.getLogger(__name__)

PAGE_ROOMS = 20
PAGE_TRACKS = 10
PAGE_PEOPLE = 10
RELATED_GENRES = 8
TRACKS_TO_TRY = 3
# How far down each genre's top tracks tracks to try are looked for: a suggested genre is
# one the listener has not played, so its tracks are almost never theirs (only beyond the
# 2,000 most played their profile is built from); the rest is room for not repeating a track
# offered for an earlier genre (MAX_EXPLORE genres x TRACKS_TO_TRY would need 60).
TRACKS_CHECKED = 20
MAX_EXPLORE = 20
# Each genre's top tracks, shared by its page and by genres to explore: the ranking is the
# same for everybody and moves slowly (plays over 30 days).
TOP_TRACKS_KEY = "tunewave:genres:top-tracks:{}"
TOP_TRACKS_TTL_S = 600
TOP_TRACKS_KEPT = 50


@dataclass(frozen=True, slots=True)
class GraphBuild:
    status: str  # "published" | "empty" (no plays with genres yet)
    graph_id: str | None
    genres: int
    listeners: int
    plays: int


def _not_found(raw: str) -> NotFound:
    return NotFound(f"genre {raw!r} not found (see GET /genres)", code="genre_not_found")


class DiscoveryService:
    # --- the genre graph -------------------------------------------------------------------

    async def build_graph(self, session: AsyncSession) -> tuple[GenreGraph | None, int]:
        """The co-listening graph from every play in PostgreSQL (None: no plays with genres),
        with the number of (listener, track) pairs it was built from."""
        plays, track_genres = await discovery_repository.graph_inputs(session)
        track_genres = track_genres[track_genres["item_id"].isin(plays["item_id"])]
        if plays.empty or track_genres.empty:
            return None, len(plays)
        return fit_genre_graph(plays, track_genres), len(plays)

    async def build_and_publish_graph(self, session: AsyncSession, redis: Redis) -> GraphBuild:
        graph, pairs = await self.build_graph(session)
        if graph is None:
            return GraphBuild("empty", None, 0, 0, pairs)
        graph_id = await graph_store.publish(redis, graph)
        return GraphBuild(
            "published",
            graph_id,
            len(graph.vocabulary),
            int(graph.popularity.max()) if graph.popularity.size else 0,
            pairs,
        )

    async def graph(
        self, session: AsyncSession, redis: Redis
    ) -> tuple[GenreGraph | None, GraphSource, datetime | None]:
        """The published graph; else one built from PostgreSQL now (and published, so the
        next request reads it); None when nobody has played a track with genres."""
        loaded = await graph_store.load(redis)
        if loaded is not None:
            return loaded.graph, "published", loaded.built_at
        built_at = datetime.now(UTC)
        built, _ = await self.build_graph(session)
        if built is None:
            return None, "none", None
        logger.info("genre graph not published: built one on demand")
        try:
            await graph_store.publish(redis, built, built_at)
        except RedisError:
            logger.warning("genre graph built on demand could not be published")
        return built, "on_demand", built_at

    # --- a genre's page ----------------------------------------------------------------------

    async def genre_page(self, session: AsyncSession, redis: Redis, raw_slug: str) -> GenrePage:
        slug = genre_slug(raw_slug)
        # NUL is in no genre's name (and PostgreSQL text cannot hold it).
        genre = (
            await discovery_repository.genre(session, slug) if slug and "\x00" not in slug else None
        )
        if genre is None:
            raise _not_found(raw_slug)
        rooms = [
            GenreRoom.from_snapshot(room, genre.slug)
            for room in await recommendations_service.live_rooms(session, redis)
            if not room["is_private"]
            and (
                genre.slug in room["genres"]
                or (room["now_playing"] and genre.slug in room["now_playing"]["genres"])
            )
        ]
        rooms.sort(key=lambda r: (not r.playing_now, -r.room.online_count, not r.tagged))
        top = await self.top_tracks(session, redis, [genre.slug], fresh=True)
        top_ten = top[genre.slug][:PAGE_TRACKS]
        tracks = await tracks_repository.with_credits(session, [t for t, _ in top_ten])
        graph, _, _ = await self.graph(session, redis)
        related = graph.neighbours(genre.slug, RELATED_GENRES) if graph is not None else []
        return GenrePage(
            genre=GenreRef(slug=genre.slug, name=genre.name),
            track_count=await discovery_repository.track_count(session, genre.id),
            rooms=rooms[:PAGE_ROOMS],
            top_tracks=[
                GenreTrack(track=TrackBase.from_track(tracks[track_id]), recent_plays=plays)
                for track_id, plays in top_ten
                if track_id in tracks
            ],
            people=[
                self._fan(fan, genre.slug)
                for fan in await discovery_repository.fans(session, genre.id, PAGE_PEOPLE)
            ],
            related=await self._refs(session, [name for name, _ in related]),
        )

    async def top_tracks(
        self, session: AsyncSession, redis: Redis, slugs: list[str], *, fresh: bool = False
    ) -> dict[str, list[tuple[uuid.UUID, int]]]:
        """slug -> (track id, recent plays) of its top ``TOP_TRACKS_KEPT`` tracks; cached in
        Redis for ``TOP_TRACKS_TTL_S`` (read from PostgreSQL when Redis fails). ``fresh``:
        read PostgreSQL and refresh the cache (a genre page, itself cached for a minute)."""
        found: dict[str, list[tuple[uuid.UUID, int]]] = {}
        keys = [TOP_TRACKS_KEY.format(slug) for slug in slugs]
        try:
            cached = await redis.mget(keys) if keys and not fresh else [None] * len(keys)
        except RedisError:
            cached = [None] * len(keys)
        for slug, raw in zip(slugs, cached, strict=True):
            if raw is not None:
                found[slug] = [(uuid.UUID(t), int(n)) for t, n in json.loads(raw)]
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            computed: dict[str, list[tuple[uuid.UUID, int]]] = {slug: [] for slug in missing}
            for slug, track_id, plays in await discovery_repository.top_tracks(
                session, missing, TOP_TRACKS_KEPT
            ):
                computed[slug].append((track_id, plays))
            try:
                async with redis.pipeline(transaction=False) as pipe:
                    for slug, ranked in computed.items():
                        pipe.set(
                            TOP_TRACKS_KEY.format(slug),
                            json.dumps([[str(t), n] for t, n in ranked]),
                            ex=TOP_TRACKS_TTL_S,
                        )
                    await pipe.execute()
            except RedisError:
                logger.warning("genre top tracks not cached: Redis unreachable")
            found.update(computed)
        return found

    @staticmethod
    def _fan(fan: GenreFan, slug: str) -> GenreFanItem:
        parts = []
        if fan.genre_plays:
            percent = max(1, round(100 * fan.genre_plays / max(fan.total_plays, 1)))
            parts.append(part("share_of_plays", genre=slug, percent=percent))
        if fan.favourite:
            parts.append(part("favourite_genre", genre=slug))
        return GenreFanItem(
            user=RecommendedPerson(
                id=fan.id,
                display_name=fan.display_name,
                avatar_url=fan.avatar_url,
                is_demo=fan.is_demo,
            ),
            reason=render(parts),
            reason_parts=[ReasonPart.model_validate(p) for p in parts],
            genre_plays=fan.genre_plays,
            favourite=fan.favourite,
        )

    async def _refs(self, session: AsyncSession, slugs: list[str]) -> list[GenreRef]:
        names = await discovery_repository.genre_names(session, slugs)
        return [
            GenreRef(slug=slug, name=names.get(slug) or genre_display_name(slug)) for slug in slugs
        ]

    # --- genres to explore -------------------------------------------------------------------

    async def explore(
        self, session: AsyncSession, redis: Redis, user_id: uuid.UUID, k: int
    ) -> GenresToExplore:
        graph, source, built_at = await self.graph(session, redis)
        played = await discovery_repository.plays_with_genres(session, user_id)
        favourites = await recommendations_repository.favourite_genres(session, user_id)
        # Every genre they have ever played or chosen is theirs: only new ones are suggested.
        own = await discovery_repository.played_genres(session, user_id) | set(favourites)
        suggestions: list[GenreSuggestion] = []
        if graph is not None:
            suggestions = await self._from_taste_neighbours(session, redis, user_id, graph, k, own)
            if len(suggestions) < k:
                taken = own | {s.genre for s in suggestions}
                suggestions += self._rank(graph, played, favourites, k - len(suggestions), taken)
        if len(suggestions) < k:
            suggestions += await self._catalog_genres(
                session, k - len(suggestions), {s.genre for s in suggestions} | own
            )
        slugs = [s.genre for s in suggestions]
        rooms = self._playing_rooms(await recommendations_service.live_rooms(session, redis))
        top = {
            slug: ranked[:TRACKS_CHECKED]
            for slug, ranked in (await self.top_tracks(session, redis, slugs)).items()
        }
        played_tracks = await recommendations_repository.played_among(
            session, user_id, [t for ranked in top.values() for t, _ in ranked]
        )
        # Catalog tracks carry several genres: a track offered for one genre is not offered
        # again for the next, so each suggestion shows something of its own.
        to_try: dict[str, list[uuid.UUID]] = {}
        offered: set[uuid.UUID] = set(played_tracks)
        for slug in slugs:
            to_try[slug] = [t for t, _ in top.get(slug, []) if t not in offered][:TRACKS_TO_TRY]
            offered.update(to_try[slug])
        credits = await tracks_repository.with_credits(
            session, [t for ids in to_try.values() for t in ids]
        )
        names = {ref.slug: ref for ref in await self._refs(session, slugs)}
        cold = not played and not favourites
        items = []
        for suggestion in suggestions:
            parts = self._explore_parts(suggestion, graph, cold)
            room = rooms.get(suggestion.genre)
            items.append(
                GenreToExplore(
                    genre=names[suggestion.genre],
                    score=round(suggestion.score, 4),
                    reason=render(parts),
                    reason_parts=[ReasonPart.model_validate(p) for p in parts],
                    basis=self._basis(suggestion),
                    room=RecommendedRoom.from_snapshot(room) if room else None,
                    tracks=[
                        TrackBase.from_track(credits[track_id])
                        for track_id in to_try.get(suggestion.genre, [])
                        if track_id in credits
                    ],
                )
            )
        return GenresToExplore(items=items, graph=source, graph_built_at=built_at)

    async def _from_taste_neighbours(
        self,
        session: AsyncSession,
        redis: Redis,
        user_id: uuid.UUID,
        graph: GenreGraph,
        k: int,
        own: set[str],
    ) -> list[GenreSuggestion]:
        """The genres the listener's published people (the model's nearest by taste, its
        ``TOP_PEOPLE``) play, weighted by their similarity; none without a published model
        that knows the listener. Profiles as the graph builds them, ranked by
        ``recommender.explore.explore_from_neighbours``: what the bench measures."""
        people, _ = await recommendations_service.published_people(session, redis, user_id)
        if not people:
            return []
        plays = await discovery_repository.plays_with_genres_of(
            session, [person.user.id for person in people]
        )
        profiles = np.zeros((len(people), len(graph.vocabulary)), dtype=np.float64)
        for row, person in enumerate(people):
            theirs = plays.get(person.user.id, [])
            profiles[row] = graph.profile_of_plays([g for _, g in theirs], [n for n, _ in theirs])
        return explore_from_neighbours(
            graph.vocabulary, profiles, [person.score for person in people], k, own
        )

    @staticmethod
    def _basis(suggestion: GenreSuggestion) -> ExploreBasis:
        if suggestion.neighbours:
            return "taste_neighbours"
        return "adjacent" if suggestion.because else "popular"

    @staticmethod
    def _rank(
        graph: GenreGraph,
        played: list[tuple[int, list[str]]],
        favourites: list[str],
        k: int,
        own: set[str],
    ) -> list[GenreSuggestion]:
        """Adjacent genres outside ``own`` (the listener's genres and those already
        suggested), then popular ones."""
        if played:
            profile = graph.profile_of_plays([g for _, g in played], [n for n, _ in played])
        else:
            # No plays: their favourites place them in the graph (none: a cold listener).
            profile = np.asarray(graph.genres.genre_vectors([favourites]).todense()).ravel()
        # Every genre of theirs is "known": the graph suggests only genres new to them.
        known = int(np.count_nonzero(profile))
        wanted = k + len(own)
        adjacent = [
            s
            for s in graph.explore_profile(profile, wanted, known)
            if s.genre not in own and s.because is not None
        ][:k]
        chosen = {s.genre for s in adjacent}
        popular = [
            s
            for s in graph.popular_profile(profile, wanted + len(chosen), known)
            if s.genre not in own and s.genre not in chosen
        ]
        return adjacent + popular[: k - len(adjacent)]

    async def _catalog_genres(
        self, session: AsyncSession, k: int, exclude: set[str]
    ) -> list[GenreSuggestion]:
        """Nobody's plays say anything about these: the genres with most catalog tracks
        (the score is the track count)."""
        rows = [row for row in await genres_service.list_genres(session) if row[2] > 0]
        rows.sort(key=lambda row: (-row[2], row[0]))
        return [
            GenreSuggestion(slug, float(count), None)
            for slug, _, count in rows
            if slug not in exclude
        ][:k]

    @staticmethod
    def _explore_parts(
        suggestion: GenreSuggestion, graph: GenreGraph | None, cold: bool
    ) -> list[dict[str, Any]]:
        if suggestion.neighbours:
            return [
                part(
                    "taste_neighbours_play",
                    genre=suggestion.genre,
                    listeners=suggestion.neighbours,
                )
            ]
        if suggestion.because is not None:
            return [part("listeners_also_play", genre=suggestion.because, also=suggestion.genre)]
        listeners = graph.listeners(suggestion.genre) if graph is not None else 0
        if not listeners:
            return [part("catalog_genre", tracks=int(suggestion.score))]
        return [part("popular_genre_to_start" if cold else "popular_genre", listeners=listeners)]

    @staticmethod
    def _playing_rooms(rooms: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Genre slug -> the public room playing it now with the most people there."""
        best: dict[str, dict[str, Any]] = {}
        for room in rooms:
            if room["is_private"] or not room["now_playing"]:
                continue
            for slug in room["now_playing"]["genres"]:
                current = best.get(slug)
                if current is None or room["online_count"] > current["online_count"]:
                    best[slug] = room
        return best


discovery_service = DiscoveryService()
