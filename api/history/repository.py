"""Queries of listening history: bulk writes of plays, the paged history, the taste summary."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.bulk import copy_insert
from api.models import (
    Artist,
    Genre,
    IdentityStatus,
    ListeningEvent,
    ListeningSource,
    OAuthIdentity,
    OAuthProvider,
    QueueEntry,
    QueueEntryStatus,
    QueuePolicy,
    Room,
    RoomGenre,
    RoomMember,
    RoomPlayback,
    RoomRole,
    Track,
    TrackArtist,
    TrackGenre,
    User,
    UserGenre,
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

    async def insert_missing_tracks(
        self, session: AsyncSession, rows: Sequence[dict[str, Any]]
    ) -> dict[str, uuid.UUID]:
        """Tracks unknown to the catalog are added (a known one is left as it is); returns
        spotify_id -> id for every row."""
        if not rows:
            return {}
        columns = (
            "id",
            "spotify_id",
            "title",
            "artist_names",
            "album",
            "duration_ms",
            "image_url",
            "popularity",
        )
        await copy_insert(
            session,
            Track.__table__,  # type: ignore[arg-type]
            columns,
            ([uuid.uuid4(), *(row[name] for name in columns[1:])] for row in rows),
            on_conflict="ON CONFLICT (spotify_id) DO NOTHING",
        )
        result = await session.execute(
            select(Track.spotify_id, Track.id).where(
                Track.spotify_id.in_([row["spotify_id"] for row in rows])
            )
        )
        return {spotify_id: track_id for spotify_id, track_id in result.all()}

    async def ensure_artists(
        self, session: AsyncSession, artists: Sequence[tuple[uuid.UUID, str, str | None]]
    ) -> None:
        """(id, name, spotify_id) artists: created when missing; a known artist without a
        provider id gets this one, unless another artist already holds it."""
        if not artists:
            return
        await copy_insert(
            session,
            Artist.__table__,  # type: ignore[arg-type]
            ("id", "name"),
            ((artist_id, name) for artist_id, name, _ in artists),
        )
        with_ids = {artist_id: spotify_id for artist_id, _, spotify_id in artists if spotify_id}
        for artist_id, spotify_id in with_ids.items():
            taken = select(Artist.id).where(Artist.spotify_id == spotify_id).exists()
            await session.execute(
                update(Artist)
                .where(Artist.id == artist_id, Artist.spotify_id.is_(None), ~taken)
                .values(spotify_id=spotify_id)
                .execution_options(synchronize_session=False)
            )

    async def link_track_artists(
        self, session: AsyncSession, rows: Sequence[tuple[uuid.UUID, uuid.UUID, int]]
    ) -> None:
        if rows:
            await copy_insert(
                session,
                TrackArtist.__table__,  # type: ignore[arg-type]
                ("track_id", "artist_id", "position"),
                rows,
            )

    async def spotify_identity(
        self, session: AsyncSession, user_id: uuid.UUID
    ) -> OAuthIdentity | None:
        return await session.scalar(
            select(OAuthIdentity).where(
                OAuthIdentity.user_id == user_id, OAuthIdentity.provider == OAuthProvider.spotify
            )
        )

    async def set_cursor(self, session: AsyncSession, user_id: uuid.UUID, cursor_ms: int) -> None:
        """Only ever forwards: a slow import finishing late never moves the cursor back."""
        await session.execute(
            update(OAuthIdentity)
            .where(
                OAuthIdentity.user_id == user_id,
                OAuthIdentity.provider == OAuthProvider.spotify,
                or_(
                    OAuthIdentity.history_cursor_ms.is_(None),
                    OAuthIdentity.history_cursor_ms < cursor_ms,
                ),
            )
            .values(history_cursor_ms=cursor_ms)
            .execution_options(synchronize_session=False)
        )

    async def expire_spotify_token(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        await session.execute(
            update(OAuthIdentity)
            .where(
                OAuthIdentity.user_id == user_id, OAuthIdentity.provider == OAuthProvider.spotify
            )
            .values(token_expires_at=func.now())
            .execution_options(synchronize_session=False)
        )

    async def importable_user_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        """Users with an active Spotify link (a refresh token to keep importing with)."""
        result = await session.scalars(
            select(OAuthIdentity.user_id)
            .where(
                OAuthIdentity.provider == OAuthProvider.spotify,
                OAuthIdentity.status == IdentityStatus.active,
                OAuthIdentity.refresh_token_enc.is_not(None),
            )
            .order_by(OAuthIdentity.user_id)
        )
        return list(result)

    async def any_demo_user(self, session: AsyncSession) -> bool:
        return bool(await session.scalar(select(User.id).where(User.is_demo).limit(1)))

    async def insert_demo_users(
        self, session: AsyncSession, users: Sequence[tuple[uuid.UUID, str]]
    ) -> None:
        await copy_insert(
            session,
            User.__table__,  # type: ignore[arg-type]
            ("id", "display_name", "is_demo", "email_verified"),
            ((user_id, name, True, False) for user_id, name in users),
            on_conflict="ON CONFLICT (id) DO NOTHING",
        )

    async def insert_user_genres(
        self, session: AsyncSession, rows: Sequence[tuple[uuid.UUID, int]]
    ) -> None:
        if rows:
            await copy_insert(
                session,
                UserGenre.__table__,  # type: ignore[arg-type]
                ("user_id", "genre_id"),
                rows,
            )

    async def add_demo_room(
        self,
        session: AsyncSession,
        *,
        name: str,
        description: str,
        owner_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        genre_ids: Sequence[int],
        track_ids: Sequence[uuid.UUID],
        started_at_ms: int,
    ) -> None:
        """A demo room whose playlist (``track_ids``, added by its demo owner) plays from
        ``started_at_ms`` on, in a loop; members may add tracks."""
        room = Room(
            name=name,
            description=description,
            owner_id=owner_id,
            is_demo=True,
            queue_policy=QueuePolicy.members,
        )
        session.add(room)
        await session.flush()
        for member_id in dict.fromkeys([owner_id, *member_ids]):
            role = RoomRole.owner if member_id == owner_id else RoomRole.member
            session.add(RoomMember(room_id=room.id, user_id=member_id, role=role))
        for genre_id in dict.fromkeys(genre_ids):
            session.add(RoomGenre(room_id=room.id, genre_id=genre_id))
        entries = [
            QueueEntry(
                room_id=room.id,
                track_id=track_id,
                added_by=owner_id,
                position=position * 1024,
                status=QueueEntryStatus.playing if position == 1 else QueueEntryStatus.queued,
            )
            for position, track_id in enumerate(track_ids, start=1)
        ]
        session.add_all(entries)
        await session.flush()
        if entries:
            session.add(
                RoomPlayback(
                    room_id=room.id, current_entry_id=entries[0].id, started_at_ms=started_at_ms
                )
            )
            await session.flush()

    async def track_ids_by_spotify_id(
        self, session: AsyncSession, spotify_ids: set[str]
    ) -> dict[str, tuple[uuid.UUID, int]]:
        """spotify_id -> (id, duration_ms) of the catalog tracks among ``spotify_ids``."""
        if not spotify_ids:
            return {}
        result = await session.execute(
            select(Track.spotify_id, Track.id, Track.duration_ms).where(
                Track.spotify_id.in_(spotify_ids)
            )
        )
        return {spotify_id: (track_id, duration) for spotify_id, track_id, duration in result.all()}

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

    async def tracks_with_credits(
        self, session: AsyncSession, track_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Track]:
        """Tracks with artists and genres: three statements for any number of tracks."""
        if not track_ids:
            return {}
        result = await session.scalars(
            select(Track)
            .where(Track.id.in_(set(track_ids)))
            .options(selectinload(Track.artists), selectinload(Track.genres))
        )
        return {track.id: track for track in result}

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
