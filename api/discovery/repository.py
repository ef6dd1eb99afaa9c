"""Queries behind genre pages and genres to explore."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Genre, TrackGenre

RECENT_DAYS = 30
# A listener's profile is built from their most played tracks: enough to see a taste,
# bounded for people with years of imported history.
PROFILE_TRACKS = 2_000


@dataclass(frozen=True, slots=True)
class GenreFan:
    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    is_demo: bool
    genre_plays: int
    total_plays: int
    favourite: bool


class DiscoveryRepository:
    async def genre(self, session: AsyncSession, slug: str) -> Genre | None:
        return await session.scalar(select(Genre).where(Genre.slug == slug))

    async def track_count(self, session: AsyncSession, genre_id: int) -> int:
        count = await session.scalar(
            select(func.count()).select_from(TrackGenre).where(TrackGenre.genre_id == genre_id)
        )
        return int(count or 0)

    async def genre_names(self, session: AsyncSession, slugs: Sequence[str]) -> dict[str, str]:
        if not slugs:
            return {}
        result = await session.execute(
            select(Genre.slug, Genre.name).where(Genre.slug.in_(set(slugs)))
        )
        return {slug: name for slug, name in result.all()}

    async def top_tracks(
        self, session: AsyncSession, slugs: Sequence[str], per_genre: int
    ) -> list[tuple[str, uuid.UUID, int]]:
        """(slug, track id, recent plays): each genre's top tracks, by plays on TuneWave in the
        last 30 days, then the catalog's popularity; one statement for any number of genres."""
        if not slugs:
            return []
        result = await session.execute(
            text(
                """
                WITH recent AS (
                    SELECT track_id, count(*) AS plays FROM listening_events
                    WHERE played_at > now() - make_interval(days => :days)
                    GROUP BY track_id
                )
                SELECT slug, id, plays FROM (
                    SELECT g.slug, t.id, coalesce(r.plays, 0) AS plays,
                           row_number() OVER (
                               PARTITION BY g.id
                               ORDER BY coalesce(r.plays, 0) DESC,
                                        t.popularity DESC NULLS LAST, t.id
                           ) AS rank
                    FROM genres g
                    JOIN track_genres tg ON tg.genre_id = g.id
                    JOIN tracks t ON t.id = tg.track_id
                    LEFT JOIN recent r ON r.track_id = t.id
                    WHERE g.slug = ANY(:slugs)
                ) ranked
                WHERE rank <= :per_genre
                ORDER BY slug, rank
                """
            ),
            {"slugs": list(slugs), "per_genre": per_genre, "days": RECENT_DAYS},
        )
        return [(slug, track_id, int(plays)) for slug, track_id, plays in result.all()]

    async def fans(self, session: AsyncSession, genre_id: int, limit: int) -> list[GenreFan]:
        """Listeners who play the genre or chose it as a favourite, those whose listening it
        weighs most first: its share of their plays, damped by how much they play it, plus
        a favourite counting as a quarter share."""
        result = await session.execute(
            text(
                """
                WITH genre_plays AS (
                    SELECT le.user_id, count(*) AS plays FROM listening_events le
                    JOIN track_genres tg ON tg.track_id = le.track_id
                    WHERE tg.genre_id = :genre_id
                    GROUP BY le.user_id
                ), candidates AS (
                    SELECT user_id FROM genre_plays
                    UNION
                    SELECT user_id FROM user_genres WHERE genre_id = :genre_id
                ), scored AS (
                    SELECT c.user_id,
                           coalesce(gp.plays, 0) AS genre_plays,
                           (SELECT count(*) FROM listening_events le
                             WHERE le.user_id = c.user_id) AS total_plays,
                           EXISTS (SELECT 1 FROM user_genres ug WHERE ug.user_id = c.user_id
                                   AND ug.genre_id = :genre_id) AS favourite
                    FROM candidates c LEFT JOIN genre_plays gp ON gp.user_id = c.user_id
                )
                SELECT u.id, u.display_name, u.avatar_url, u.is_demo,
                       s.genre_plays, s.total_plays, s.favourite
                FROM scored s JOIN users u ON u.id = s.user_id
                ORDER BY (s.genre_plays::float / greatest(s.total_plays, 1))
                             * ln(2 + s.genre_plays)
                         + CASE WHEN s.favourite THEN 0.25 * ln(2) ELSE 0 END DESC,
                         u.is_demo, u.id
                LIMIT :limit
                """
            ),
            {"genre_id": genre_id, "limit": limit},
        )
        return [
            GenreFan(id_, name, avatar, bool(demo), int(plays), int(total), bool(favourite))
            for id_, name, avatar, demo, plays, total, favourite in result.all()
        ]

    async def plays_with_genres(
        self, session: AsyncSession, user_id: uuid.UUID
    ) -> list[tuple[int, list[str]]]:
        """(plays, genre slugs) of the listener's most played tracks that have genres."""
        result = await session.execute(
            text(
                """
                SELECT p.plays, array_agg(g.slug ORDER BY g.slug) FROM (
                    SELECT track_id, count(*) AS plays FROM listening_events
                    WHERE user_id = :user_id
                    GROUP BY track_id ORDER BY plays DESC, track_id LIMIT :limit
                ) p
                JOIN track_genres tg ON tg.track_id = p.track_id
                JOIN genres g ON g.id = tg.genre_id
                GROUP BY p.track_id, p.plays
                """
            ),
            {"user_id": user_id, "limit": PROFILE_TRACKS},
        )
        return [(int(plays), list(slugs)) for plays, slugs in result.all()]

    async def plays_with_genres_of(
        self, session: AsyncSession, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[tuple[int, list[str]]]]:
        """``plays_with_genres`` of several listeners in one statement (their taste
        neighbours): user id -> (plays, genre slugs) of each one's most played tracks."""
        if not user_ids:
            return {}
        result = await session.execute(
            text(
                """
                SELECT p.user_id, p.plays, array_agg(g.slug ORDER BY g.slug) FROM (
                    SELECT user_id, track_id, plays FROM (
                        SELECT user_id, track_id, count(*) AS plays,
                               row_number() OVER (
                                   PARTITION BY user_id ORDER BY count(*) DESC, track_id
                               ) AS rank
                        FROM listening_events WHERE user_id = ANY(:user_ids)
                        GROUP BY user_id, track_id
                    ) ranked WHERE rank <= :limit
                ) p
                JOIN track_genres tg ON tg.track_id = p.track_id
                JOIN genres g ON g.id = tg.genre_id
                GROUP BY p.user_id, p.track_id, p.plays
                """
            ),
            {"user_ids": list(user_ids), "limit": PROFILE_TRACKS},
        )
        found: dict[uuid.UUID, list[tuple[int, list[str]]]] = {}
        for user_id, plays, slugs in result.all():
            found.setdefault(user_id, []).append((int(plays), list(slugs)))
        return found

    async def played_genres(self, session: AsyncSession, user_id: uuid.UUID) -> set[str]:
        """Every genre of every track the listener has ever played (not only the most played
        ones their profile is built from): genres to explore must be new to them."""
        result = await session.execute(
            text(
                """
                SELECT DISTINCT g.slug FROM genres g
                JOIN track_genres tg ON tg.genre_id = g.id
                WHERE tg.track_id IN (
                    SELECT DISTINCT track_id FROM listening_events WHERE user_id = :user_id
                )
                """
            ),
            {"user_id": user_id},
        )
        return {str(slug) for slug in result.scalars().all()}

    async def graph_inputs(self, session: AsyncSession) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Plays per (listener, track) and the played tracks' genres, for the genre graph."""
        plays = await session.execute(
            text(
                "SELECT user_id::text, track_id::text, count(*) FROM listening_events "
                "GROUP BY user_id, track_id"
            )
        )
        genres = await session.execute(
            text(
                "SELECT tg.track_id::text, g.slug FROM track_genres tg "
                "JOIN genres g ON g.id = tg.genre_id "
                "WHERE tg.track_id IN (SELECT DISTINCT track_id FROM listening_events)"
            )
        )
        return (
            pd.DataFrame(plays.all(), columns=["user_id", "item_id", "weight"]),
            pd.DataFrame(genres.all(), columns=["item_id", "tag"]),
        )


discovery_repository = DiscoveryRepository()
