"""The room queue: who may change it, its limits, and play order (see docs/queue.md)."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.cache import ROOM_LIST, invalidate_after_commit, room_scope
from api.core.config import Settings
from api.core.exceptions import Conflict, Forbidden, NotFound
from api.models import QueueEntry, QueueEntryStatus, QueuePolicy, Room, RoomRole, User
from api.playback.service import playback_service
from api.queue.repository import queue_repository
from api.queue.schemas import QueueFrame
from api.realtime.events import publish_after_commit
from api.rooms.repository import rooms_repository
from api.rooms.service import rooms_service
from api.tracks.service import tracks_service

# Upcoming entries (playing + queued) a room may hold.
MAX_UPCOMING_ENTRIES = 500
# A member who is not a queue manager may own at most this many upcoming entries, or this
# percentage of the upcoming queue once it is long enough, so nobody floods a shared room.
MEMBER_SHARE_MIN_ENTRIES = 5
MEMBER_SHARE_PERCENT = 25
# Appends leave this much room between neighbours, so a move is one row almost always.
POSITION_GAP = 1024

# Roles that run the queue: add under any policy, remove or move anybody's entries, no share.
QUEUE_MANAGERS = (RoomRole.owner, RoomRole.dj)


def member_share_limit(upcoming_entries: int) -> int:
    """How many upcoming entries one member may own when the queue holds this many."""
    return max(MEMBER_SHARE_MIN_ENTRIES, upcoming_entries * MEMBER_SHARE_PERCENT // 100)


def position_between(before: int | None, after: int | None) -> int | None:
    """A position strictly between two neighbours (one may be missing: an end of the queue),
    or None when no integer is left between them."""
    if before is None:
        return None if after is None else after - POSITION_GAP
    if after is None:
        return before + POSITION_GAP
    if after - before < 2:
        return None
    return (before + after) // 2


class QueueService:
    async def list_upcoming(
        self,
        session: AsyncSession,
        user: User | None,
        room_id: uuid.UUID,
        *,
        redis: Redis | None = None,
    ) -> list[QueueEntry]:
        room = await self._room(session, room_id)
        await rooms_service.ensure_can_see_inside(session, room, user)
        if room.is_demo and redis is not None:
            # Nobody may have been in a demo room for hours: bring its playback up to the
            # clock first, so the queue shows what plays now.
            await playback_service.current(session, redis, room.id)
        return await queue_repository.list_upcoming(session, room.id)

    async def get_entry(
        self, session: AsyncSession, user: User | None, room_id: uuid.UUID, entry_id: uuid.UUID
    ) -> QueueEntry:
        room = await self._room(session, room_id)
        await rooms_service.ensure_can_see_inside(session, room, user)
        entry = await queue_repository.get_entry(session, room.id, entry_id)
        if entry is None:
            raise NotFound("queue entry not found in this room", code="queue_entry_not_found")
        return entry

    async def add(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        user: User,
        room_id: uuid.UUID,
        spotify_id: str,
    ) -> QueueEntry:
        room = await self._room(session, room_id)
        role = await rooms_service.ensure_member(session, room, user)
        manager = role in QUEUE_MANAGERS
        if not manager and room.queue_policy != QueuePolicy.members:
            raise Forbidden("only the room's owner adds tracks to this queue", code="owner_only")
        # Before the lock: a provider lookup may take a while and must not hold the room.
        track = await tracks_service.find_or_fetch(session, redis, settings, spotify_id)
        await self._lock(session, room.id)
        stats = await queue_repository.upcoming_stats(
            session, room.id, user_id=user.id, track_id=track.id
        )
        if stats.has_track:
            raise Conflict("this track is already in the queue", code="track_already_queued")
        if stats.entries >= MAX_UPCOMING_ENTRIES:
            raise Conflict(f"the queue is full ({MAX_UPCOMING_ENTRIES} tracks)", code="queue_full")
        if not manager and stats.added_by_user + 1 > member_share_limit(stats.entries + 1):
            raise Conflict(
                f"you have {stats.added_by_user} tracks in the queue already; members may have "
                f"{MEMBER_SHARE_MIN_ENTRIES} or {MEMBER_SHARE_PERCENT}% of it",
                code="queue_share_used",
            )
        last = stats.last_position
        position = POSITION_GAP if last is None else last + POSITION_GAP
        if room.is_demo:
            position = await self._demo_position(session, room.id)
        entry = QueueEntry(
            room_id=room.id,
            track_id=track.id,
            added_by=user.id,
            position=position,
            status=QueueEntryStatus.queued,
        )
        entry.track = track
        entry.adder = user
        entry = await queue_repository.add(session, entry)
        _queue_event(session, room.id, "added", entry.id, user.id)
        return entry

    async def remove(
        self, session: AsyncSession, user: User, room_id: uuid.UUID, entry_id: uuid.UUID
    ) -> None:
        room = await self._room(session, room_id)
        role = await rooms_service.ensure_member(session, room, user)
        await self._lock(session, room.id)
        entry = await queue_repository.get_entry_plain(session, room.id, entry_id)
        if entry is None:
            raise NotFound("queue entry not found in this room", code="queue_entry_not_found")
        if role not in QUEUE_MANAGERS and entry.added_by != user.id:
            raise Forbidden(
                "only the room's owner or who added the track can remove it", code="not_allowed"
            )
        if entry.status != QueueEntryStatus.queued:
            raise Conflict(
                f"only queued tracks can be removed (this one is {entry.status})",
                code="entry_not_queued",
            )
        await queue_repository.delete(session, entry)
        _queue_event(session, room.id, "removed", entry_id, user.id)

    async def move(
        self,
        session: AsyncSession,
        user: User,
        room_id: uuid.UUID,
        entry_id: uuid.UUID,
        index: int,
    ) -> list[QueueEntry]:
        room = await self._room(session, room_id)
        if await rooms_service.ensure_member(session, room, user) not in QUEUE_MANAGERS:
            raise Forbidden("only the room's owner reorders the queue", code="owner_only")
        await self._lock(session, room.id)
        order = await queue_repository.queued_order(session, room.id)
        others = [(other_id, position) for other_id, position in order if other_id != entry_id]
        if len(others) == len(order):
            if await queue_repository.get_entry_plain(session, room.id, entry_id) is None:
                raise NotFound("queue entry not found in this room", code="queue_entry_not_found")
            raise Conflict("only queued tracks can be moved", code="entry_not_queued")
        _queue_event(session, room.id, "moved", entry_id, user.id)
        if not others:
            return await queue_repository.list_upcoming(session, room.id)
        index = min(index, len(others))
        before = others[index - 1][1] if index > 0 else None
        after = others[index][1] if index < len(others) else None
        position = position_between(before, after)
        if position is not None:
            await queue_repository.set_positions(session, [(entry_id, position)])
        else:
            # No integer left between the neighbours: spread the whole queue out again.
            ids = [other_id for other_id, _ in others]
            ids.insert(index, entry_id)
            await queue_repository.set_positions(
                session, [(other_id, (i + 1) * POSITION_GAP) for i, other_id in enumerate(ids)]
            )
        return await queue_repository.list_upcoming(session, room.id)

    async def _demo_position(self, session: AsyncSession, room_id: uuid.UUID) -> int:
        """Where a track added to a demo room goes: after the tracks people added before it,
        ahead of the rest of the looping playlist, so it plays within a few tracks rather
        than after the whole playlist. (Call with the room locked.)"""
        upcoming = await queue_repository.upcoming_with_adders(session, room_id)
        # After the playing entry and the last queued entry a person (not the playlist) added.
        place = 0
        for index, (_, _, playing, by_demo) in enumerate(upcoming):
            if playing or not by_demo:
                place = index + 1
        before = upcoming[place - 1][1] if place > 0 else None
        after = upcoming[place][1] if place < len(upcoming) else None
        position = position_between(before, after)
        if position is not None:
            return position
        if before is None:
            return POSITION_GAP
        # No integer left between the neighbours: spread what follows out again.
        await queue_repository.set_positions(
            session,
            [
                (entry_id, before + (i + 2) * POSITION_GAP)
                for i, (entry_id, *_) in enumerate(upcoming[place:])
            ],
        )
        return before + POSITION_GAP

    async def _room(self, session: AsyncSession, room_id: uuid.UUID) -> Room:
        room = await queue_repository.get_room(session, room_id)
        if room is None:
            raise NotFound("room not found", code="room_not_found")
        return room

    async def _lock(self, session: AsyncSession, room_id: uuid.UUID) -> None:
        if not await rooms_repository.lock_touching_activity(session, room_id):
            raise NotFound("room not found", code="room_not_found")
        # The change moves the room's activity time, which the room and the list show.
        invalidate_after_commit(session, ROOM_LIST, room_scope(room_id))


def _queue_event(
    session: AsyncSession, room_id: uuid.UUID, action: str, entry_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    frame = QueueFrame.model_validate({"action": action, "entry_id": entry_id, "user_id": user_id})
    publish_after_commit(session, room_id, frame)


queue_service = QueueService()
