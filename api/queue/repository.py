from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from api.models import QueueEntry, QueueEntryStatus, Room, Track, User

# The upcoming queue: what is playing now and what will play after it.
UPCOMING = (QueueEntryStatus.playing, QueueEntryStatus.queued)


@dataclass(frozen=True, slots=True)
class UpcomingStats:
    entries: int
    added_by_user: int
    last_position: int | None
    has_track: bool


# A constant number of queries for any queue length: entries joined to their tracks, then one
# query each for all the tracks' artists and genres.
_WITH_TRACK = (
    joinedload(QueueEntry.track).selectinload(Track.artists),
    joinedload(QueueEntry.track).selectinload(Track.genres),
    joinedload(QueueEntry.adder),
)


class QueueRepository:
    async def get_room(self, session: AsyncSession, room_id: uuid.UUID) -> Room | None:
        return await session.scalar(select(Room).where(Room.id == room_id))

    async def upcoming_stats(
        self,
        session: AsyncSession,
        room_id: uuid.UUID,
        *,
        user_id: uuid.UUID,
        track_id: uuid.UUID,
    ) -> UpcomingStats:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter(QueueEntry.added_by == user_id),
                    func.max(QueueEntry.position),
                    func.coalesce(func.bool_or(QueueEntry.track_id == track_id), False),
                ).where(QueueEntry.room_id == room_id, QueueEntry.status.in_(UPCOMING))
            )
        ).one()
        return UpcomingStats(
            entries=row[0], added_by_user=row[1], last_position=row[2], has_track=bool(row[3])
        )

    async def add_playlist(
        self,
        session: AsyncSession,
        room_id: uuid.UUID,
        added_by: uuid.UUID,
        track_ids: Sequence[uuid.UUID],
    ) -> list[uuid.UUID]:
        """Queue ``track_ids`` in order, the first one marked playing; returns the entry ids."""
        entries = [
            QueueEntry(
                room_id=room_id,
                track_id=track_id,
                added_by=added_by,
                position=position * 1024,
                status=QueueEntryStatus.playing if position == 1 else QueueEntryStatus.queued,
            )
            for position, track_id in enumerate(track_ids, start=1)
        ]
        session.add_all(entries)
        await session.flush()
        return [entry.id for entry in entries]

    async def set_statuses(
        self, session: AsyncSession, entry_ids: list[uuid.UUID], status: QueueEntryStatus
    ) -> None:
        if entry_ids:
            await session.execute(
                update(QueueEntry)
                .where(QueueEntry.id.in_(entry_ids))
                .values(status=status)
                .execution_options(synchronize_session=False)
            )

    async def delete_entries(self, session: AsyncSession, entry_ids: list[uuid.UUID]) -> None:
        if entry_ids:
            await session.execute(
                delete(QueueEntry)
                .where(QueueEntry.id.in_(entry_ids))
                .execution_options(synchronize_session=False)
            )

    async def set_status(
        self, session: AsyncSession, entry_id: uuid.UUID, status: QueueEntryStatus
    ) -> None:
        await session.execute(
            update(QueueEntry)
            .where(QueueEntry.id == entry_id)
            .values(status=status)
            .execution_options(synchronize_session=False)
        )

    async def add(self, session: AsyncSession, entry: QueueEntry) -> QueueEntry:
        session.add(entry)
        await session.flush()
        return entry

    async def list_upcoming(self, session: AsyncSession, room_id: uuid.UUID) -> list[QueueEntry]:
        """The playing entry first, then the queued ones in play order; tracks loaded."""
        query = (
            select(QueueEntry)
            .where(QueueEntry.room_id == room_id, QueueEntry.status.in_(UPCOMING))
            .options(*_WITH_TRACK)
            .order_by(
                case((QueueEntry.status == QueueEntryStatus.playing, 0), else_=1),
                QueueEntry.position,
                QueueEntry.id,
            )
        )
        return list(await session.scalars(query))

    async def get_entry(
        self, session: AsyncSession, room_id: uuid.UUID, entry_id: uuid.UUID
    ) -> QueueEntry | None:
        """One entry of the room, with its track loaded."""
        return await session.scalar(
            select(QueueEntry)
            .where(QueueEntry.id == entry_id, QueueEntry.room_id == room_id)
            .options(*_WITH_TRACK)
        )

    async def get_entry_plain(
        self, session: AsyncSession, room_id: uuid.UUID, entry_id: uuid.UUID
    ) -> QueueEntry | None:
        return await session.scalar(
            select(QueueEntry).where(QueueEntry.id == entry_id, QueueEntry.room_id == room_id)
        )

    async def queued_order(
        self, session: AsyncSession, room_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, int]]:
        """(entry id, position) of the queued entries, in play order."""
        result = await session.execute(
            select(QueueEntry.id, QueueEntry.position)
            .where(QueueEntry.room_id == room_id, QueueEntry.status == QueueEntryStatus.queued)
            .order_by(QueueEntry.position, QueueEntry.id)
        )
        return [(entry_id, position) for entry_id, position in result.all()]

    async def upcoming_with_adders(
        self, session: AsyncSession, room_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, int, bool, bool]]:
        """(entry id, position, is playing, added by a demo listener) of the upcoming
        entries: the playing one first, then the queued ones in play order."""
        playing = QueueEntry.status == QueueEntryStatus.playing
        result = await session.execute(
            select(QueueEntry.id, QueueEntry.position, playing, func.coalesce(User.is_demo, False))
            .outerjoin(User, User.id == QueueEntry.added_by)
            .where(QueueEntry.room_id == room_id, QueueEntry.status.in_(UPCOMING))
            .order_by(case((playing, 0), else_=1), QueueEntry.position, QueueEntry.id)
        )
        return [
            (entry_id, position, bool(is_playing), bool(by_demo))
            for entry_id, position, is_playing, by_demo in result.all()
        ]

    async def set_positions(
        self, session: AsyncSession, positions: Sequence[tuple[uuid.UUID, int]]
    ) -> None:
        if not positions:
            return
        await session.execute(
            update(QueueEntry),
            [{"id": entry_id, "position": position} for entry_id, position in positions],
        )

    async def delete(self, session: AsyncSession, entry: QueueEntry) -> None:
        await session.delete(entry)
        await session.flush()


queue_repository = QueueRepository()
