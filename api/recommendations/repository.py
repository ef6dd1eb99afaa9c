"""Queries behind recommendations: a listener's genres, fallback candidates, live rooms."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import desc, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Genre, ListeningEvent, Room, Track, TrackGenre, User, UserGenre

RECENT_DAYS = 30


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    is_demo: bool
    shared: list[str]
    weight: float


@dataclass(slots=True)
class RoomRow:
    id: uuid.UUID
    name: str
    description: str
    is_private: bool
    last_activity_at: datetime
    genres: list[str] = field(default_factory=list)
    member_ids: list[uuid.UUID] = field(default_factory=list)
    member_count: int = 0
    # The upcoming queue's tracks, the playing one first.
    track_ids: list[uuid.UUID] = field(default_factory=list)
    now_playing_id: uuid.UUID | None = None
    is_demo: bool = False


_LIVE_ROOMS = text(
    """
    SELECT r.id, r.name, r.description, r.is_private, r.last_activity_at,
           coalesce((SELECT array_agg(g.slug ORDER BY g.slug) FROM room_genres rg
                     JOIN genres g ON g.id = rg.genre_id WHERE rg.room_id = r.id), '{}'),
           coalesce((SELECT array_agg(m.user_id ORDER BY m.joined_at) FROM (
                        SELECT user_id, joined_at FROM room_members
                        WHERE room_id = r.id ORDER BY joined_at LIMIT :members) m), '{}'),
           (SELECT count(*) FROM room_members WHERE room_id = r.id),
           coalesce((SELECT array_agg(q.track_id ORDER BY q.playing DESC, q.position) FROM (
                        SELECT track_id, position, status = 'playing' AS playing
                        FROM queue_entries
                        WHERE room_id = r.id AND status IN ('playing', 'queued')
                        ORDER BY status = 'playing' DESC, position LIMIT :tracks) q), '{}'),
           (SELECT track_id FROM queue_entries
             WHERE room_id = r.id AND status = 'playing' LIMIT 1),
           r.is_demo
    FROM rooms r
    ORDER BY r.last_activity_at DESC, r.id
    LIMIT :limit
    """
)


class RecommendationsRepository:
    async def favourite_genres(self, session: AsyncSession, user_id: uuid.UUID) -> list[str]:
        result = await session.scalars(
            select(Genre.slug)
            .join(UserGenre, UserGenre.genre_id == Genre.id)
            .where(UserGenre.user_id == user_id)
            .order_by(Genre.slug)
        )
        return list(result)

    async def listened_genres(
        self, session: AsyncSession, user_id: uuid.UUID, limit: int
    ) -> list[tuple[str, int]]:
        """(slug, plays) of the genres of the user's most recent 500 plays."""
        recent = (
            select(ListeningEvent.track_id)
            .where(ListeningEvent.user_id == user_id)
            .order_by(desc(ListeningEvent.played_at))
            .limit(500)
            .subquery()
        )
        plays = func.count().label("plays")
        result = await session.execute(
            select(Genre.slug, plays)
            .select_from(recent)
            .join(TrackGenre, TrackGenre.track_id == recent.c.track_id)
            .join(Genre, Genre.id == TrackGenre.genre_id)
            .group_by(Genre.slug)
            .order_by(desc(plays), Genre.slug)
            .limit(limit)
        )
        return [(slug, int(count)) for slug, count in result.all()]

    async def top_tracks_per_genre(
        self, session: AsyncSession, slugs: Sequence[str], per_genre: int
    ) -> list[tuple[str, uuid.UUID, int | None]]:
        """(slug, track id, popularity): each genre's most popular tracks, one statement."""
        result = await session.execute(
            text(
                """
                SELECT slug, id, popularity FROM (
                    SELECT g.slug, t.id, t.popularity,
                           row_number() OVER (
                               PARTITION BY g.id ORDER BY t.popularity DESC NULLS LAST, t.id
                           ) AS rank
                    FROM genres g
                    JOIN track_genres tg ON tg.genre_id = g.id
                    JOIN tracks t ON t.id = tg.track_id
                    WHERE g.slug = ANY(:slugs)
                ) ranked
                WHERE rank <= :per_genre
                ORDER BY slug, rank
                """
            ),
            {"slugs": list(slugs), "per_genre": per_genre},
        )
        return [(slug, track_id, popularity) for slug, track_id, popularity in result.all()]

    async def popular_tracks(self, session: AsyncSession, limit: int) -> list[uuid.UUID]:
        """Most played on TuneWave in the last 30 days, then the catalog's most popular."""
        result = await session.execute(
            text(
                """
                (SELECT track_id, count(*) AS plays FROM listening_events
                 WHERE played_at > now() - make_interval(days => :days)
                 GROUP BY track_id ORDER BY plays DESC, track_id LIMIT :limit)
                """
            ),
            {"days": RECENT_DAYS, "limit": limit},
        )
        ids = [track_id for track_id, _ in result.all()]
        if len(ids) < limit:
            more = await session.scalars(
                text("SELECT id FROM tracks ORDER BY popularity DESC NULLS LAST, id LIMIT :limit"),
                {"limit": limit},
            )
            ids.extend(track_id for track_id in more if track_id not in set(ids))
        return ids[:limit]

    async def played_among(
        self, session: AsyncSession, user_id: uuid.UUID, track_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        if not track_ids:
            return set()
        result = await session.scalars(
            select(ListeningEvent.track_id)
            .where(ListeningEvent.user_id == user_id, ListeningEvent.track_id.in_(track_ids))
            .distinct()
        )
        return set(result)

    async def played_spotify_ids(
        self, session: AsyncSession, user_ids: Sequence[uuid.UUID], spotify_ids: Sequence[str]
    ) -> set[tuple[uuid.UUID, str]]:
        """``(user, spotify_id)`` pairs among these users and tracks that have been played."""
        if not user_ids or not spotify_ids:
            return set()
        result = await session.execute(
            select(ListeningEvent.user_id, Track.spotify_id)
            .join(Track, Track.id == ListeningEvent.track_id)
            .where(ListeningEvent.user_id.in_(user_ids), Track.spotify_id.in_(spotify_ids))
            .distinct()
        )
        return {(row[0], row[1]) for row in result.all()}

    async def people_sharing(
        self, session: AsyncSession, user_id: uuid.UUID, slugs: Sequence[str], limit: int
    ) -> list[PersonRow]:
        """Listeners whose favourite genres overlap ``slugs``, those sharing most first."""
        result = await session.execute(
            text(
                """
                WITH theirs AS (
                    SELECT ug.user_id, g.slug, 1.0 AS weight
                    FROM user_genres ug JOIN genres g ON g.id = ug.genre_id
                    WHERE g.slug = ANY(:slugs) AND ug.user_id <> :user_id
                ), ranked AS (
                    SELECT user_id, slug, sum(weight) AS weight FROM theirs
                    GROUP BY user_id, slug
                )
                SELECT u.id, u.display_name, u.avatar_url, u.is_demo,
                       array_agg(r.slug ORDER BY r.weight DESC, r.slug), sum(r.weight)
                FROM ranked r JOIN users u ON u.id = r.user_id
                GROUP BY u.id
                ORDER BY sum(r.weight) DESC, u.is_demo, u.id
                LIMIT :limit
                """
            ),
            {"slugs": list(slugs), "user_id": user_id, "limit": limit},
        )
        return [
            PersonRow(id_, name, avatar, bool(demo), list(shared), float(weight))
            for id_, name, avatar, demo, shared, weight in result.all()
        ]

    async def active_listeners(
        self, session: AsyncSession, user_id: uuid.UUID, limit: int
    ) -> list[PersonRow]:
        """The listeners with the most plays in the last 30 days (any plays, if none)."""
        result = await session.execute(
            text(
                """
                SELECT u.id, u.display_name, u.avatar_url, u.is_demo, count(le.id) AS plays
                FROM users u LEFT JOIN listening_events le
                  ON le.user_id = u.id AND le.played_at > now() - make_interval(days => :days)
                WHERE u.id <> :user_id
                GROUP BY u.id
                ORDER BY plays DESC, u.is_demo, u.created_at DESC, u.id
                LIMIT :limit
                """
            ),
            {"user_id": user_id, "limit": limit, "days": RECENT_DAYS},
        )
        return [
            PersonRow(id_, name, avatar, bool(demo), [], float(plays))
            for id_, name, avatar, demo, plays in result.all()
        ]

    async def people(
        self, session: AsyncSession, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[uuid.UUID, str, str | None, bool]]:
        if not user_ids:
            return {}
        result = await session.execute(
            select(User.id, User.display_name, User.avatar_url, User.is_demo).where(
                User.id.in_(user_ids)
            )
        )
        return {row[0]: (row[0], row[1], row[2], bool(row[3])) for row in result.all()}

    async def genres_of_tracks(
        self, session: AsyncSession, track_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[str]]:
        if not track_ids:
            return {}
        result = await session.execute(
            select(TrackGenre.track_id, Genre.slug)
            .join(Genre, Genre.id == TrackGenre.genre_id)
            .where(TrackGenre.track_id.in_(set(track_ids)))
        )
        genres: dict[uuid.UUID, list[str]] = {}
        for track_id, slug in result.all():
            genres.setdefault(track_id, []).append(slug)
        return genres

    async def favourite_genres_of(
        self, session: AsyncSession, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[str]]:
        if not user_ids:
            return {}
        result = await session.execute(
            select(UserGenre.user_id, Genre.slug)
            .join(Genre, Genre.id == UserGenre.genre_id)
            .where(UserGenre.user_id.in_(set(user_ids)))
        )
        genres: dict[uuid.UUID, list[str]] = {}
        for user_id, slug in result.all():
            genres.setdefault(user_id, []).append(slug)
        return genres

    async def demo_room_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        return list(await session.scalars(select(Room.id).where(Room.is_demo).order_by(Room.id)))

    async def live_rooms(
        self, session: AsyncSession, limit: int, *, members: int = 50, tracks: int = 30
    ) -> list[RoomRow]:
        """The most recently active rooms with their genres, first members, upcoming
        tracks and what plays now: one statement for any number of rooms."""
        result = await session.execute(
            _LIVE_ROOMS, {"limit": limit, "members": members, "tracks": tracks}
        )
        return [
            RoomRow(
                id=row[0],
                name=row[1],
                description=row[2],
                is_private=row[3],
                last_activity_at=row[4],
                genres=list(row[5]),
                member_ids=list(row[6]),
                member_count=int(row[7]),
                track_ids=list(row[8]),
                now_playing_id=row[9],
                is_demo=bool(row[10]),
            )
            for row in result.all()
        ]


recommendations_repository = RecommendationsRepository()
