from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import (
    QueueEntry,
    QueueEntryStatus,
    Room,
    RoomPlayback,
    Track,
    User,
)


class StateRow(NamedTuple):
    room_id: uuid.UUID
    version: int
    entry_id: uuid.UUID | None
    started_at_ms: int | None
    paused_position_ms: int | None
    track_id: uuid.UUID | None
    spotify_id: str | None
    title: str | None
    artist_names: str | None
    duration_ms: int | None
    image_url: str | None
    is_demo: bool


class DemoEntry(NamedTuple):
    entry_id: uuid.UUID
    duration_ms: int
    status: QueueEntryStatus
    # Part of the room's playlist (added by a demo listener), which loops; else a track a
    # member added, which plays once.
    in_playlist: bool


class NextEntry(NamedTuple):
    entry_id: uuid.UUID


_STATE_COLUMNS = (
    RoomPlayback.room_id,
    RoomPlayback.version,
    RoomPlayback.current_entry_id,
    RoomPlayback.started_at_ms,
    RoomPlayback.paused_position_ms,
    Track.id,
    Track.spotify_id,
    Track.title,
    Track.artist_names,
    Track.duration_ms,
    Track.image_url,
    Room.is_demo,
)


class PlaybackRepository:
    async def load(self, session: AsyncSession, room_id: uuid.UUID) -> StateRow | None:
        """The room's playback with its track, creating the idle row on first use.

        Plain columns (no identity map): the row changes by compare-and-set statements, and
        every read must see the latest committed version.
        """
        query = (
            select(*_STATE_COLUMNS)
            .join(Room, Room.id == RoomPlayback.room_id)
            .outerjoin(QueueEntry, QueueEntry.id == RoomPlayback.current_entry_id)
            .outerjoin(Track, Track.id == QueueEntry.track_id)
            .where(RoomPlayback.room_id == room_id)
        )
        row = (await session.execute(query)).first()
        if row is None:
            await session.execute(
                insert(RoomPlayback)
                .from_select(["room_id"], select(Room.id).where(Room.id == room_id))
                .on_conflict_do_nothing(index_elements=["room_id"])
            )
            row = (await session.execute(query)).first()
        return StateRow._make(row) if row is not None else None

    async def compare_and_set(
        self, session: AsyncSession, room_id: uuid.UUID, version: int, values: dict[str, Any]
    ) -> bool:
        """Apply ``values`` and bump the version, only if the version is still ``version``.

        Under READ COMMITTED a concurrent writer of the same version waits for the row lock,
        then re-checks the condition against the committed row and updates nothing.
        """
        changed = await session.scalar(
            update(RoomPlayback)
            .where(RoomPlayback.room_id == room_id, RoomPlayback.version == version)
            .values(**values, version=version + 1)
            .returning(RoomPlayback.version)
            .execution_options(synchronize_session=False)
        )
        return changed is not None

    async def next_queued(self, session: AsyncSession, room_id: uuid.UUID) -> uuid.UUID | None:
        return await session.scalar(
            select(QueueEntry.id)
            .where(QueueEntry.room_id == room_id, QueueEntry.status == QueueEntryStatus.queued)
            .order_by(QueueEntry.position, QueueEntry.id)
            .limit(1)
        )

    async def demo_entries(self, session: AsyncSession, room_id: uuid.UUID) -> list[DemoEntry]:
        """Every entry of a demo room in play order, with its length and whether it belongs
        to the looping playlist."""
        result = await session.execute(
            select(QueueEntry.id, Track.duration_ms, QueueEntry.status, User.is_demo)
            .join(Track, Track.id == QueueEntry.track_id)
            .outerjoin(User, User.id == QueueEntry.added_by)
            .where(QueueEntry.room_id == room_id)
            .order_by(QueueEntry.position, QueueEntry.id)
        )
        return [
            DemoEntry(entry_id, max(int(duration or 0), 0), status, bool(is_demo))
            for entry_id, duration, status, is_demo in result.all()
        ]

    async def start(
        self, session: AsyncSession, room_id: uuid.UUID, entry_id: uuid.UUID, started_at_ms: int
    ) -> None:
        """The room's playback row, playing ``entry_id`` from ``started_at_ms``."""
        session.add(
            RoomPlayback(room_id=room_id, current_entry_id=entry_id, started_at_ms=started_at_ms)
        )
        await session.flush()


playback_repository = PlaybackRepository()
