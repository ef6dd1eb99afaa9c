"""Queries of listening history: the only writer of ``listening_events`` (bulk imports and
room plays), the paged history, the taste summary."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.bulk import copy_insert
from api.models import (
    Artist,
    Genre,
    ListeningEvent,
    ListeningSource,
    Room,
    TrackArtist,
    TrackGenre,
    User,
)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    track_id: uuid.UUID
    source: ListeningSource
    room_id: uuid.UUID | None
    room_name: str | None
    played_at: datetime
    ms_played: int


class HistoryRepository:
    async def insert_events(self, session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> int:
        """COPY (user_id, track_id, source, room_id, played_at, ms_played) rows; a play
        already stored (same user, source, track and instant) is skipped. Returns how many
        were new."""
        if not rows:
            return 0
        inserted = await copy_insert(
            session,
            ListeningEvent.__table__,  # type: ignore[arg-type]
            ("user_id", "track_id", "source", "room_id", "played_at", "ms_played"),
            rows,
            on_conflict="ON CONFLICT DO NOTHING",
            returning=("id",),
        )
        return len(inserted)

    async def add_room_events(
        self,
        session: AsyncSession,
        *,
        room_id: uuid.UUID,
        track_id: uuid.UUID,
        played_at: datetime,
        ms_played: dict[uuid.UUID, int],
    ) -> int:
        """One room listening event per user (users that still exist); idempotent."""
        if not ms_played:
            return 0
        existing = set(await session.scalars(select(User.id).where(User.id.in_(list(ms_played)))))
        rows = [
            {
                "user_id": user_id,
                "track_id": track_id,
                "source": ListeningSource.room,
                "room_id": room_id,
                "played_at": played_at,
                "ms_played": ms,
            }
            for user_id, ms in ms_played.items()
            if user_id in existing
        ]
        if not rows:
            return 0
        result = await session.execute(
            insert(ListeningEvent)
            .values(rows)
            .on_conflict_do_nothing(
                constraint="uq_listening_events_user_id_source_track_id_played_at"
            )
            .returning(ListeningEvent.id)
        )
        return len(result.all())

    async def page(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        *,
        limit: int,
        before: tuple[datetime, int] | None,
    ) -> list[HistoryRow]:
        """Newest first; ``before`` is the (played_at, id) of the last row of the previous
        page, so pages never skip or repeat plays sharing an instant."""
        query = (
            select(
                ListeningEvent.id,
                ListeningEvent.track_id,
                ListeningEvent.source,
                ListeningEvent.room_id,
                Room.name,
                ListeningEvent.played_at,
                ListeningEvent.ms_played,
            )
            .outerjoin(Room, Room.id == ListeningEvent.room_id)
            .where(ListeningEvent.user_id == user_id)
            .order_by(desc(ListeningEvent.played_at), desc(ListeningEvent.id))
            .limit(limit)
        )
        if before is not None:
            query = query.where(
                tuple_(ListeningEvent.played_at, ListeningEvent.id) < tuple_(*before)
            )
        result = await session.execute(query)
        return [HistoryRow(*row) for row in result.all()]

    async def totals(self, session: AsyncSession, user_id: uuid.UUID) -> tuple[int, int, Any, Any]:
        """(plays, ms played, first played_at, last played_at)."""
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(ListeningEvent.ms_played), 0),
                    func.min(ListeningEvent.played_at),
                    func.max(ListeningEvent.played_at),
                ).where(ListeningEvent.user_id == user_id)
            )
        ).one()
        return int(row[0]), int(row[1]), row[2], row[3]

    async def top_genres(
        self, session: AsyncSession, user_id: uuid.UUID, limit: int
    ) -> list[tuple[str, str, int]]:
        """(slug, name, plays) of the genres the user's plays carry, most played first."""
        plays = func.count().label("plays")
        result = await session.execute(
            select(Genre.slug, Genre.name, plays)
            .select_from(ListeningEvent)
            .join(TrackGenre, TrackGenre.track_id == ListeningEvent.track_id)
            .join(Genre, Genre.id == TrackGenre.genre_id)
            .where(ListeningEvent.user_id == user_id)
            .group_by(Genre.id)
            .order_by(desc(plays), Genre.slug)
            .limit(limit)
        )
        return [(slug, name, int(count)) for slug, name, count in result.all()]

    async def top_artists(
        self, session: AsyncSession, user_id: uuid.UUID, limit: int
    ) -> list[tuple[uuid.UUID, str, int]]:
        """(id, name, plays) of the artists credited on the user's plays."""
        plays = func.count().label("plays")
        result = await session.execute(
            select(Artist.id, Artist.name, plays)
            .select_from(ListeningEvent)
            .join(TrackArtist, TrackArtist.track_id == ListeningEvent.track_id)
            .join(Artist, Artist.id == TrackArtist.artist_id)
            .where(ListeningEvent.user_id == user_id)
            .group_by(Artist.id)
            .order_by(desc(plays), Artist.name)
            .limit(limit)
        )
        return [(artist_id, name, int(count)) for artist_id, name, count in result.all()]


history_repository = HistoryRepository()
