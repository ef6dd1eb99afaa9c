"""Synchronized playback: state derived from time, changed only by compare-and-set.

Playing: position = now - started_at_ms. Paused: position = paused_position_ms. Idle: no
entry. Every change bumps the version with ``UPDATE ... WHERE version = v``, so when several
processes notice that a track ended, exactly one of them starts the next entry; the others
find the version moved on and read the new state. Nothing here runs on a timer: a reader that
finds the current entry over catches the room up (that is also how a restart recovers), and
processes with sockets in the room set a timer only to make the change happen on time.

Demo rooms (``rooms.is_demo``) never stop: when their queue runs out, their playlist (the
entries demo listeners added) starts again, and a reader that finds a demo room behind moves
it straight to the entry the clock says plays now, however long nobody looked. See
docs/realtime.md ("Demo rooms").
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.core.db import after_commit
from api.core.exceptions import Conflict, Forbidden, NotFound, TuneWaveError, Unprocessable
from api.history.repository import history_repository
from api.models import QueueEntryStatus, RoomRole, User
from api.playback.listening import listening_tracker
from api.playback.repository import DemoEntry, StateRow, playback_repository
from api.playback.schemas import PlaybackFrame
from api.queue.repository import queue_repository
from api.realtime.events import now_ms, publish, publish_after_commit
from api.realtime.presence import Presence
from api.rooms.repository import rooms_repository
from api.rooms.service import rooms_service

logger = logging.getLogger(__name__)

# A listening event needs this much of a track heard, or half of a shorter track.
LISTEN_THRESHOLD_MS = 30_000
# A track that ended longer ago than this (nobody's process was there to advance the room,
# e.g. during a restart) is followed by the next entry from now, not from the old end instant:
# nobody should come back to a queue silently played through.
CATCH_UP_GRACE_MS = 10_000
# Bound on transitions one read performs.
MAX_CATCH_UP = 50
CONTROLLERS = (RoomRole.owner, RoomRole.dj)


_Command = Callable[
    ["PlaybackService", AsyncSession, Redis, "PlaybackState", int, int | None],
    Awaitable["PlaybackState"],
]


class StaleVersion(Conflict):
    """The playback changed since the version the command was meant for."""

    code = "stale_version"


@dataclass(frozen=True, slots=True)
class PlaybackState:
    room_id: uuid.UUID
    version: int
    entry_id: uuid.UUID | None
    track_id: uuid.UUID | None
    spotify_id: str | None
    title: str | None
    artist_names: str | None
    duration_ms: int
    image_url: str | None
    started_at_ms: int | None
    paused_position_ms: int | None
    is_demo: bool = False

    @classmethod
    def of(cls, row: StateRow) -> PlaybackState:
        return cls(
            room_id=row.room_id,
            version=row.version,
            entry_id=row.entry_id,
            track_id=row.track_id,
            spotify_id=row.spotify_id,
            title=row.title,
            artist_names=row.artist_names,
            duration_ms=row.duration_ms or 0,
            image_url=row.image_url,
            started_at_ms=row.started_at_ms,
            paused_position_ms=row.paused_position_ms,
            is_demo=row.is_demo,
        )

    @property
    def status(self) -> str:
        if self.entry_id is None:
            return "idle"
        return "playing" if self.paused_position_ms is None else "paused"

    @property
    def ends_at_ms(self) -> int | None:
        if self.status != "playing" or self.started_at_ms is None:
            return None
        return self.started_at_ms + self.duration_ms

    def position_ms(self, at_ms: int) -> int:
        if self.entry_id is None:
            return 0
        if self.paused_position_ms is not None:
            return self.paused_position_ms
        assert self.started_at_ms is not None
        return max(0, min(self.duration_ms, at_ms - self.started_at_ms))

    def wire(self, at_ms: int | None = None) -> dict[str, Any]:
        at_ms = playback_service.clock() if at_ms is None else at_ms
        track = None
        if self.entry_id is not None:
            track = {
                "id": str(self.track_id),
                "spotify_id": self.spotify_id,
                "title": self.title,
                "artist_names": self.artist_names,
                "duration_ms": self.duration_ms,
                "image_url": self.image_url,
            }
        return {
            "room_id": str(self.room_id),
            "version": self.version,
            "status": self.status,
            "entry_id": str(self.entry_id) if self.entry_id else None,
            "track": track,
            "started_at_ms": self.started_at_ms if self.status == "playing" else None,
            "paused_position_ms": self.paused_position_ms,
            "position_ms": self.position_ms(at_ms),
            "server_time_ms": at_ms,
        }


def playback_frame(state: PlaybackState, reason: str) -> PlaybackFrame:
    return PlaybackFrame.of(reason, state.wire())


@dataclass(frozen=True, slots=True)
class Ended:
    """How the current entry ended: where, when, and as what."""

    position_ms: int
    at_ms: int
    status: QueueEntryStatus


@dataclass(frozen=True, slots=True)
class DemoMove:
    """Where a demo room's clock says it is: ``target`` plays since ``start_ms`` (None:
    nothing to play); ``passed`` entries went by unheard; ``wrapped`` when the playlist
    (``cycle``) started again to get there."""

    target: DemoEntry | None
    start_ms: int
    passed: list[uuid.UUID]
    cycle: list[DemoEntry]
    wrapped: bool


def plan_demo_move(
    entries: list[DemoEntry], current: uuid.UUID | None, start_at_ms: int, at_ms: int
) -> DemoMove:
    """From ``start_at_ms`` the queued entries (not ``current``) play in order; when they run
    out before ``at_ms`` the playlist loops as many times as the time that passed holds."""
    start = start_at_ms
    passed: list[uuid.UUID] = []
    for entry in entries:
        if entry.status != QueueEntryStatus.queued or entry.entry_id == current:
            continue
        if start + entry.duration_ms > at_ms:
            return DemoMove(entry, start, passed, [], wrapped=False)
        start += entry.duration_ms
        passed.append(entry.entry_id)
    cycle = [entry for entry in entries if entry.in_playlist and entry.duration_ms > 0]
    if not cycle:
        return DemoMove(None, start, passed, cycle, wrapped=False)
    length = sum(entry.duration_ms for entry in cycle)
    start += (at_ms - start) // length * length
    for entry in cycle:
        if start + entry.duration_ms > at_ms:
            return DemoMove(entry, start, passed, cycle, wrapped=True)
        start += entry.duration_ms
    return DemoMove(None, start, passed, cycle, wrapped=True)


class PlaybackService:
    def __init__(self) -> None:
        self.presence_ttl_s = 15.0
        # The server's clock (epoch ms). Everything here reads time through it, so a test can
        # let hours pass without waiting.
        self.clock: Callable[[], int] = now_ms

    async def current(
        self,
        session: AsyncSession,
        redis: Redis,
        room_id: uuid.UUID,
        *,
        raise_on_redis_error: bool = False,
    ) -> PlaybackState:
        """What plays now; a room whose entry has ended is moved on first (exactly once).

        While Redis is unreachable the ended entry is returned as it is (or RedisError raised
        with ``raise_on_redis_error``, for the hub's retries)."""
        state = await self._load(session, room_id)
        if state.is_demo and state.status == "idle":
            # A demo room always plays: one that never started (or ran dry) starts now.
            started = await self._demo_move(
                session, redis, state, start_at_ms=self.clock(), ended=None, reason="play"
            )
            state = started or await self._load(session, room_id)
        for _ in range(MAX_CATCH_UP):
            ends_at = state.ends_at_ms
            if ends_at is None:
                break
            at = self.clock()
            if at < ends_at:
                break
            if state.is_demo:
                moved = await self._demo_move(
                    session,
                    redis,
                    state,
                    start_at_ms=ends_at,
                    ended=Ended(state.duration_ms, ends_at, QueueEntryStatus.played),
                    reason="advance",
                )
                state = moved or await self._load(session, room_id)
                continue
            start_next_at = ends_at if at - ends_at <= CATCH_UP_GRACE_MS else at
            try:
                # A savepoint: a transition Redis interrupts (the listening totals live there)
                # leaves nothing behind; the reader gets the ended state, and the hub's
                # playback sweep retries until Redis is back.
                async with session.begin_nested():
                    moved = await self._transition(
                        session,
                        redis,
                        state,
                        end_position_ms=state.duration_ms,
                        ended_at_ms=ends_at,
                        start_next_at_ms=start_next_at,
                        finished=QueueEntryStatus.played,
                        reason="advance",
                    )
            except RedisError as exc:
                logger.warning("playback not advanced yet: Redis unreachable (%s)", exc)
                if raise_on_redis_error:
                    raise
                break
            state = moved or await self._load(session, room_id)
        return state

    async def get_for(
        self, session: AsyncSession, redis: Redis, user: User | None, room_id: uuid.UUID
    ) -> PlaybackState:
        room = await rooms_service.get(session, room_id)
        await rooms_service.ensure_can_see_inside(session, room, user)
        return await self.current(session, redis, room.id)

    async def command(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        user: User,
        room_id: uuid.UUID,
        action: str,
        *,
        position_ms: int | None = None,
        expected_version: int | None = None,
    ) -> PlaybackState:
        """play / pause / seek / skip, for those allowed to control the room's playback."""
        room = await rooms_service.get(session, room_id)
        membership = await rooms_repository.get_membership(session, room.id, user.id)
        role = rooms_service.check_member(membership)
        if settings.playback_control != "members" and role not in CONTROLLERS:
            raise Forbidden("only the room's owner or a DJ controls playback", code="owner_only")
        state = await self.current(session, redis, room.id)
        if expected_version is not None and state.version != expected_version:
            raise StaleVersion(f"playback is at version {state.version}")
        handler = self._commands.get(action)
        if handler is None:
            raise Unprocessable(f"unknown playback action {action!r}")
        return await handler(self, session, redis, state, self.clock(), position_ms)

    async def _play(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        at: int,
        _position_ms: int | None,
    ) -> PlaybackState:
        if state.status == "playing":
            return state
        if state.status == "idle":
            started = await self._start_first(session, redis, state, at, reason="play")
            if started is None:
                raise NotFound("the queue is empty", code="queue_empty")
            return started
        paused = state.paused_position_ms or 0
        return await self._set(
            session,
            redis,
            state,
            {"started_at_ms": at - paused, "paused_position_ms": None},
            "play",
        )

    async def _pause(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        at: int,
        _position_ms: int | None,
    ) -> PlaybackState:
        if state.status != "playing":
            if state.status == "idle":
                raise NotFound("nothing is playing", code="nothing_playing")
            return state
        return await self._set(
            session,
            redis,
            state,
            {"started_at_ms": None, "paused_position_ms": state.position_ms(at)},
            "pause",
        )

    async def _seek(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        at: int,
        position_ms: int | None,
    ) -> PlaybackState:
        if state.entry_id is None:
            raise NotFound("nothing is playing", code="nothing_playing")
        if position_ms is None or not 0 <= position_ms < state.duration_ms:
            raise Unprocessable(
                f"position_ms must be from 0 to {state.duration_ms - 1}", field="position_ms"
            )
        if state.status == "playing":
            values: dict[str, Any] = {"started_at_ms": at - position_ms}
        else:
            values = {"paused_position_ms": position_ms}
        from_ms = state.position_ms(at)
        room_id, entry_id, to_ms = state.room_id, state.entry_id, position_ms

        async def move_listeners() -> None:
            await listening_tracker.seek(redis, room_id, entry_id, from_ms, to_ms)

        after_commit(session, move_listeners)
        return await self._set(session, redis, state, values, "seek")

    async def _skip(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        at: int,
        _position_ms: int | None,
    ) -> PlaybackState:
        if state.entry_id is None:
            raise NotFound("nothing is playing", code="nothing_playing")
        if state.is_demo:
            skipped = await self._demo_move(
                session,
                redis,
                state,
                start_at_ms=at,
                ended=Ended(state.position_ms(at), at, QueueEntryStatus.skipped),
                reason="skip",
            )
        else:
            skipped = await self._skip_queued(session, redis, state, at)
        if skipped is None:
            raise StaleVersion("playback changed at the same moment; try again")
        return skipped

    async def _skip_queued(
        self, session: AsyncSession, redis: Redis, state: PlaybackState, at: int
    ) -> PlaybackState | None:
        try:
            return await self._transition(
                session,
                redis,
                state,
                end_position_ms=state.position_ms(at),
                ended_at_ms=at,
                start_next_at_ms=at,
                finished=QueueEntryStatus.skipped,
                reason="skip",
            )
        except RedisError as exc:
            # The listening totals live in Redis: a skip waits for it rather than lose
            # what everybody heard of this entry (the request rolls back whole).
            raise TuneWaveError(
                "playback is briefly unavailable; try again in a few seconds",
                status_code=503,
                headers={"Retry-After": "2"},
            ) from exc

    # The playback actions a client may send, each one step of ``command``.
    _commands: dict[str, _Command] = {
        "play": _play,
        "pause": _pause,
        "seek": _seek,
        "skip": _skip,
    }

    async def listeners_changed(
        self,
        session: AsyncSession,
        redis: Redis,
        room_id: uuid.UUID,
        arrived: list[str],
        left: list[str],
    ) -> None:
        """These users started and these stopped hearing the room's current entry (one read
        of the playback state for a whole batch of sockets opening and closing)."""
        state = await self._peek(session, room_id)
        if state is None or state.entry_id is None:
            return
        position_ms = state.position_ms(self.clock())
        await listening_tracker.present(redis, room_id, state.entry_id, arrived, position_ms)
        await listening_tracker.absent(redis, room_id, state.entry_id, left, position_ms)

    async def _peek(self, session: AsyncSession, room_id: uuid.UUID) -> PlaybackState | None:
        row = await playback_repository.load(session, room_id)
        return PlaybackState.of(row) if row is not None else None

    async def _load(self, session: AsyncSession, room_id: uuid.UUID) -> PlaybackState:
        row = await playback_repository.load(session, room_id)
        if row is None:
            raise NotFound("room not found", code="room_not_found")
        return PlaybackState.of(row)

    async def _set(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        values: dict[str, Any],
        reason: str,
    ) -> PlaybackState:
        if not await playback_repository.compare_and_set(
            session, state.room_id, state.version, values
        ):
            raise StaleVersion("playback changed at the same moment; try again")
        moved = await self._load(session, state.room_id)
        publish_after_commit(session, state.room_id, playback_frame(moved, reason), redis)
        return moved

    async def _start_first(
        self, session: AsyncSession, redis: Redis, state: PlaybackState, at: int, reason: str
    ) -> PlaybackState | None:
        next_id = await playback_repository.next_queued(session, state.room_id)
        if next_id is None:
            return None
        if not await playback_repository.compare_and_set(
            session,
            state.room_id,
            state.version,
            {"current_entry_id": next_id, "started_at_ms": at, "paused_position_ms": None},
        ):
            return None
        await queue_repository.set_status(session, next_id, QueueEntryStatus.playing)
        moved = await self._load(session, state.room_id)
        self._after_start(session, redis, moved, reason)
        return moved

    async def _transition(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        *,
        end_position_ms: int,
        ended_at_ms: int,
        start_next_at_ms: int,
        finished: QueueEntryStatus,
        reason: str,
    ) -> PlaybackState | None:
        """End the current entry and start the next (or idle); None if another process won."""
        assert state.entry_id is not None
        assert state.track_id is not None
        next_id = await playback_repository.next_queued(session, state.room_id)
        values: dict[str, Any] = {
            "current_entry_id": next_id,
            "started_at_ms": start_next_at_ms if next_id is not None else None,
            "paused_position_ms": None,
        }
        if not await playback_repository.compare_and_set(
            session, state.room_id, state.version, values
        ):
            return None
        # Old entry first: at most one entry of a room is playing (a unique index).
        await queue_repository.set_status(session, state.entry_id, finished)
        if next_id is not None:
            await queue_repository.set_status(session, next_id, QueueEntryStatus.playing)
        await self._record_listens(session, redis, state, end_position_ms, ended_at_ms)
        moved = await self._load(session, state.room_id)
        self._after_move(session, redis, state, moved, reason)
        return moved

    async def _record_listens(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        end_position_ms: int,
        ended_at_ms: int,
    ) -> None:
        """A listening event for each person who was there and heard enough of the entry
        that ended; nobody else (demo listeners are never there)."""
        assert state.entry_id is not None
        assert state.track_id is not None
        heard = await listening_tracker.totals(
            redis, state.room_id, state.entry_id, end_position_ms
        )
        threshold = min(LISTEN_THRESHOLD_MS, state.duration_ms // 2)
        ms_played = {
            uuid.UUID(user_id): min(ms, state.duration_ms)
            for user_id, ms in heard.items()
            if ms >= threshold
        }
        await history_repository.add_room_events(
            session,
            room_id=state.room_id,
            track_id=state.track_id,
            played_at=datetime.fromtimestamp(ended_at_ms / 1000, UTC),
            ms_played=ms_played,
        )

    def _after_move(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        moved: PlaybackState,
        reason: str,
    ) -> None:
        old_entry = state.entry_id
        if old_entry is not None:

            async def forget() -> None:
                await listening_tracker.forget(redis, state.room_id, old_entry)

            after_commit(session, forget)
        if moved.entry_id is None:
            publish_after_commit(session, state.room_id, playback_frame(moved, "idle"), redis)
        else:
            self._after_start(session, redis, moved, reason)

    async def _demo_move(
        self,
        session: AsyncSession,
        redis: Redis,
        state: PlaybackState,
        *,
        start_at_ms: int,
        ended: Ended | None,
        reason: str,
    ) -> PlaybackState | None:
        """Move a demo room to what its clock says plays now; None if another process won.

        From ``start_at_ms`` (when the current entry ended, or now), the queued entries play
        in order; when they run out the playlist starts again, as many times as the time
        that passed holds. One compare-and-set makes the whole move, so it happens once
        however many processes notice, and however long nobody looked. Entries passed over
        while nobody was there give nobody a listening event; member tracks play once and
        are removed when the playlist starts again, so the queue never grows by looping.
        """
        entries = await playback_repository.demo_entries(session, state.room_id)
        plan = plan_demo_move(entries, state.entry_id, start_at_ms, self.clock())
        target = plan.target
        values: dict[str, Any] = {
            "current_entry_id": target.entry_id if target else None,
            "started_at_ms": plan.start_ms if target else None,
            "paused_position_ms": None,
        }
        if target is None and state.entry_id is None:
            return None  # nothing to play at all: stays idle, no version bump
        if not await playback_repository.compare_and_set(
            session, state.room_id, state.version, values
        ):
            return None
        if state.entry_id is not None:
            finished = ended.status if ended else QueueEntryStatus.played
            await queue_repository.set_status(session, state.entry_id, finished)
        await queue_repository.set_statuses(session, plan.passed, QueueEntryStatus.played)
        if plan.wrapped:
            await self._restart_playlist(session, state, entries, plan)
        if target is not None:
            await queue_repository.set_status(session, target.entry_id, QueueEntryStatus.playing)
        if ended is not None and state.entry_id is not None:
            await self._record_listens(session, redis, state, ended.position_ms, ended.at_ms)
        moved = await self._load(session, state.room_id)
        self._after_move(session, redis, state, moved, reason)
        return moved

    async def _restart_playlist(
        self,
        session: AsyncSession,
        state: PlaybackState,
        entries: list[DemoEntry],
        plan: DemoMove,
    ) -> None:
        """The playlist started again at ``plan.target``: what comes before it was played,
        what follows is queued again, and member tracks that played are removed."""
        assert plan.target is not None
        place = plan.cycle.index(plan.target)
        await queue_repository.set_statuses(
            session, [entry.entry_id for entry in plan.cycle[:place]], QueueEntryStatus.played
        )
        await queue_repository.set_statuses(
            session, [entry.entry_id for entry in plan.cycle[place + 1 :]], QueueEntryStatus.queued
        )
        done = {state.entry_id, *plan.passed}
        await queue_repository.delete_entries(
            session,
            [
                entry.entry_id
                for entry in entries
                if not entry.in_playlist
                and (entry.status != QueueEntryStatus.queued or entry.entry_id in done)
            ],
        )

    def _after_start(
        self, session: AsyncSession, redis: Redis, state: PlaybackState, reason: str
    ) -> None:
        """After the commit: everyone present hears the new entry from its start; tell them."""
        assert state.entry_id is not None
        entry_id = state.entry_id
        presence = Presence(redis, self.presence_ttl_s)

        async def announce() -> None:
            try:
                present = await presence.user_ids(state.room_id, now_ms())
                await listening_tracker.present(redis, state.room_id, entry_id, present, 0)
            except Exception:
                logger.exception("listeners not marked", extra={"room_id": str(state.room_id)})
            await publish(redis, state.room_id, playback_frame(state, reason))

        after_commit(session, announce)


playback_service = PlaybackService()
