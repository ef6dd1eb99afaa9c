"""One per API process: its room sockets, one Redis subscriber, presence and playback timers.

- Sockets are grouped by room. The process subscribes to a room's channel when its first
  local socket arrives and unsubscribes when the last one goes, all on a single pub/sub
  connection (not one per socket). Each event is decoded once and the same text frame is
  handed to every local socket of the room.
- Each socket has a bounded send queue drained by its own writer task: a slow or stalled
  reader fills only its own queue and is dropped when it overflows; nobody waits for it.
- Presence lives in Redis (``presence.py``); this process refreshes its sockets' expiry and
  sweeps users whose sockets expired (a killed process), announcing them as left.
- For each room with local sockets, a timer fires at the current entry's end and asks the
  playback service to move on; the compare-and-set there makes it happen once.

Redis comes and goes (``RedisOutage`` below): while it is down, events this process publishes
are delivered to its own sockets and kept to be published again; the subscriber reconnects,
re-subscribes, publishes what it kept and heals its sockets (the chat they missed, from
PostgreSQL, and the playback state); presence is re-added by the next refresh; an
end-of-track transition that failed is retried by the playback sweep until it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from starlette.websockets import WebSocket

from api.core.config import Settings
from api.core.redis import new_redis
from api.realtime.coalesce import Coalesced
from api.realtime.events import (
    CHANNEL_PREFIX,
    now_ms,
    publish,
    room_channel,
    set_publish_fallback,
)
from api.realtime.presence import Presence
from api.realtime.schemas import JoinedFrame, LeftFrame, PongFrame, encode_frame
from api.realtime.socket_control import SocketControl

logger = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_SLOW_CONSUMER = 4408
CLOSE_ROOM_DELETED = 4410
CLOSE_NOT_A_MEMBER = 4403
# How often every socket's send budget is checked.
BUDGET_CHECK_S = 0.5
# Presence changes (``joined``/``left``) of a room are gathered for up to this long and go to
# its sockets together: one change as its own frame, several as one ``presence`` frame holding
# them in order. A crowd arriving at once then costs each socket a frame per period instead
# of one per arrival (framing, writing and the client's parsing). Any other room event sends
# what was gathered first, so the order of a room's events is kept.
PRESENCE_BATCH_S = 0.2
PRESENCE_TYPES = frozenset({"joined", "left"})
# Arrivals and departures reach the listening history in batches per room, at most this late:
# a storm of 500 arrivals costs a few reads of the playback state, not 500.
LISTENERS_FLUSH_S = 0.2


class Pong:
    """A pong whose server send time (t2) is stamped by the writer, right before sending."""

    __slots__ = ("t0", "t1")

    def __init__(self, t0: float, t1: int) -> None:
        self.t0 = t0
        self.t1 = t1

    def render(self) -> str:
        return encode_frame(PongFrame(t0=self.t0, t1=self.t1, t2=now_ms()))


@dataclass(slots=True)
class Event:
    """A room event as received from Redis: decoded once per process, sent as ``text``."""

    type: str
    text: str
    seq: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Close:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


Outgoing = str | Pong | Close


@dataclass(frozen=True, slots=True)
class SendBudget:
    """What a socket may have waiting for its peer before it counts as a slow consumer."""

    frames: int = 256
    bytes: int = 512 * 1024
    # Over budget (or one send blocked) for this long: closed with 4408.
    grace_s: float = 5.0
    # Past this many times the budget the socket is closed at once (memory bound).
    hard_factor: int = 4
    # A dropped peer that never reads its close frame is cut this much later.
    abort_after_s: float = 10.0


# While a resume (or the hello) is served, live events wait in ``held``; past this many,
# held chat messages are discarded and the resume reads them from PostgreSQL instead.
HELD_MESSAGES_LIMIT = 1000


def _size(item: Outgoing) -> int:
    return len(item) if isinstance(item, str) else 64


class Connection:
    """One accepted socket: its identity, its budgeted send queue and its chat position."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        connection_id: str,
        room_id: uuid.UUID,
        user_id: uuid.UUID,
        user_info: dict[str, Any],
        queue_frames: int | None = None,
        budget: SendBudget | None = None,
        control: SocketControl | None = None,
    ) -> None:
        self.websocket = websocket
        self.id = connection_id
        self.room_id = room_id
        self.user_id = user_id
        self.user_info = user_info
        budget = budget or SendBudget()
        if queue_frames is not None:
            budget = replace(budget, frames=queue_frames)
        self.budget = budget
        self.control = control
        self._items: deque[Outgoing] = deque()
        self.queued_bytes = 0
        self._wake = asyncio.Event()
        # Set while the queue is at most half its frame budget (resume pages wait for it).
        self._roomy = asyncio.Event()
        self._roomy.set()
        # Monotonic time since which the socket is over budget / its current send started.
        self.over_budget_since: float | None = None
        self.sending_since: float | None = None
        # The highest chat seq this socket was sent; live messages at or below are skipped.
        self.last_seq = 0
        # While a resume (or the hello) is being served, room events wait here.
        self.held: list[Event] | None = []
        # Held chat messages were discarded (too many): the resume must read further.
        self.held_overflow = False
        self.closed = False
        self.close_code: int | None = None
        self.writer: asyncio.Task[None] | None = None
        # Called when the server drops the socket, so its reader stops waiting for the peer.
        self.on_drop: Callable[[], None] | None = None

    @property
    def queued_frames(self) -> int:
        return len(self._items)

    def offer(self, item: Outgoing) -> None:
        """Queue ``item`` for the writer."""
        if self.closed:
            return
        self._items.append(item)
        self.queued_bytes += _size(item)
        self._wake.set()
        budget = self.budget
        if len(self._items) > budget.frames // 2:
            self._roomy.clear()
        if (
            len(self._items) > budget.frames * budget.hard_factor
            or self.queued_bytes > budget.bytes * budget.hard_factor
        ):
            self.drop(CLOSE_SLOW_CONSUMER, "too slow: send budget exceeded")
        elif self.over_budget_since is None and (
            len(self._items) > budget.frames or self.queued_bytes > budget.bytes
        ):
            self.over_budget_since = time.monotonic()

    def check_budget(self, now: float) -> None:
        """Close the socket with 4408 once it has been over its send budget (frames, or bytes
        including what the server and the kernel still buffer) or stuck in one send for the
        grace period. Called periodically by the hub."""
        if self.closed:
            return
        budget = self.budget
        buffered = self.control.buffered_bytes() if self.control is not None else 0
        over = len(self._items) > budget.frames or self.queued_bytes + buffered > budget.bytes
        if not over:
            self.over_budget_since = None
        elif self.over_budget_since is None:
            self.over_budget_since = now
        stuck = self.sending_since is not None and now - self.sending_since >= budget.grace_s
        lasting = (
            self.over_budget_since is not None and now - self.over_budget_since >= budget.grace_s
        )
        if stuck or lasting:
            self.drop(CLOSE_SLOW_CONSUMER, "too slow: send budget exceeded")

    async def wait_roomy(self) -> None:
        """Until the queue is at most half its frame budget (or the socket is closed)."""
        while not self.closed and not self._roomy.is_set():
            await self._roomy.wait()

    def deliver(self, event: Event) -> None:
        if self.held is not None:
            self.held.append(event)
            if event.seq is not None and len(self.held) > HELD_MESSAGES_LIMIT:
                self.held = [held for held in self.held if held.seq is None]
                self.held_overflow = True
            return
        self._send_event(event)

    def _send_event(self, event: Event) -> None:
        if event.seq is not None:
            if event.seq <= self.last_seq:
                return
            self.last_seq = event.seq
        self.offer(event.text)
        if event.type == "room_deleted":
            self.offer(Close(CLOSE_ROOM_DELETED, "room deleted"))
            self.closed = True

    def hold(self) -> None:
        if self.held is None:
            self.held = []

    def release(self) -> None:
        held, self.held = self.held or [], None
        for event in held:
            self._send_event(event)

    def drop(self, code: int, reason: str) -> None:
        """Close at once, skipping whatever is queued (the queue may be what is full)."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self._items.clear()
        self.queued_bytes = 0
        self._roomy.set()
        stalled = self.sending_since is not None
        if stalled and self.control is not None:
            # The writer waits for a peer that does not read: the close frame goes past it.
            self.control.force_close(code, reason, abort_after_s=self.budget.abort_after_s)
            if self.writer is not None:
                self.writer.cancel()
        else:
            self._items.append(Close(code, reason))
            self._wake.set()
        if self.on_drop is not None:
            self.on_drop()

    def close_now(self, code: int, reason: str) -> None:
        """Close at once even when the writer is idle (server shutdown): the close frame is
        written synchronously when the transport allows it, else queued like ``drop``."""
        if self.closed:
            return
        if self.control is not None and not self.control.closing:
            self.closed = True
            self.close_code = code
            self._items.clear()
            self.queued_bytes = 0
            self._roomy.set()
            self.control.force_close(code, reason, abort_after_s=self.budget.abort_after_s)
            if self.writer is not None:
                self.writer.cancel()
            if self.on_drop is not None:
                self.on_drop()
            return
        self.drop(code, reason)

    async def write_loop(self) -> None:
        websocket = self.websocket
        items = self._items
        half = self.budget.frames // 2
        try:
            while True:
                while not items:
                    self._wake.clear()
                    await self._wake.wait()
                control = self.control
                if control is not None and not isinstance(items[0], Close) and control.ready():
                    # Everything queued goes out in one write while the peer keeps up.
                    batch: list[str] = []
                    while items and not isinstance(items[0], Close):
                        queued = items.popleft()
                        assert not isinstance(queued, Close)
                        self.queued_bytes -= _size(queued)
                        batch.append(queued if isinstance(queued, str) else queued.render())
                    self._roomy.set()
                    control.write_texts(batch)
                    continue
                item = items.popleft()
                self.queued_bytes -= _size(item)
                if len(items) <= half:
                    self._roomy.set()
                if isinstance(item, Close):
                    with contextlib.suppress(Exception):
                        await websocket.close(item.code, item.reason)
                    return
                self.sending_since = time.monotonic()
                await websocket.send_text(item if isinstance(item, str) else item.render())
                self.sending_since = None
        except Exception:
            # The peer went away; the reader notices and cleans up.
            self.closed = True
        finally:
            self.sending_since = None


class ChatSequencer:
    """Per room, hands chat messages to the room's sockets in seq order.

    Seqs have no holes (``chat_post_message``), but publishes from different requests and
    processes can reach a process out of order, and pub/sub may lose one. A message that
    arrives ahead of the next expected seq waits up to ``window_s`` for the ones before it;
    then the missing ones are read from PostgreSQL, and everything goes out in order. So a
    client sees a gap only when something is really missing for it, and resumes then.
    """

    def __init__(
        self,
        window_s: float,
        deliver: Callable[[uuid.UUID, Event], None],
        fetch: Callable[[uuid.UUID, int, int], Any],
    ) -> None:
        self.window_s = window_s
        self._deliver = deliver
        self._fetch = fetch
        self._rooms: dict[uuid.UUID, _RoomOrder] = {}
        self.healed = 0

    def note_stored(self, room_id: uuid.UUID, last_seq: int) -> None:
        """The room's latest stored seq, as read from PostgreSQL by a hello: where this
        process starts counting when it has seen no message of the room yet. (Once it has,
        it keeps its own count: older sockets may still be owed messages up to it.)"""
        order = self._rooms.setdefault(room_id, _RoomOrder())
        if order.delivered is None:
            order.delivered = last_seq
            self._flush(room_id, order)

    def delivered_from_store(self, room_id: uuid.UUID, seq: int) -> None:
        """Messages up to ``seq`` reached the room's sockets straight from PostgreSQL (the
        hub's healing while Redis was away): count on from there, without reading them again."""
        order = self._rooms.setdefault(room_id, _RoomOrder())
        if order.delivered is None or seq > order.delivered:
            order.delivered = seq
            if not order.fetching:
                self._flush(room_id, order)

    def admit(self, room_id: uuid.UUID, event: Event) -> None:
        seq = event.seq
        order = self._rooms.setdefault(room_id, _RoomOrder())
        if seq is None or order.delivered is None:
            if seq is not None:
                order.delivered = seq
            self._deliver(room_id, event)
            return
        if seq <= order.delivered:
            # Late (already read from PostgreSQL) or older than what this process knew:
            # each socket skips what it already has.
            self._deliver(room_id, event)
            return
        order.waiting[seq] = event
        if not order.fetching:
            self._flush(room_id, order)

    def forget(self, room_id: uuid.UUID) -> None:
        order = self._rooms.pop(room_id, None)
        if order is not None and order.timer is not None:
            order.timer.cancel()

    def forget_all_but(self, room_ids: set[uuid.UUID]) -> None:
        for room_id in [r for r in self._rooms if r not in room_ids]:
            order = self._rooms[room_id]
            if not order.fetching:
                self.forget(room_id)

    def _flush(self, room_id: uuid.UUID, order: _RoomOrder) -> None:
        assert order.delivered is not None
        waiting = order.waiting
        for seq in sorted(s for s in waiting if s <= order.delivered):
            self._deliver(room_id, waiting.pop(seq))
        while order.delivered + 1 in waiting:
            order.delivered += 1
            self._deliver(room_id, waiting.pop(order.delivered))
        if not waiting:
            if order.timer is not None:
                order.timer.cancel()
                order.timer = None
        elif order.timer is None:
            loop = asyncio.get_running_loop()
            order.timer = loop.call_later(self.window_s, self._window_passed, room_id, order)

    def _window_passed(self, room_id: uuid.UUID, order: _RoomOrder) -> None:
        order.timer = None
        if order.fetching or not order.waiting or self._rooms.get(room_id) is not order:
            return
        order.fetching = True
        task = asyncio.create_task(self._heal(room_id, order))
        order.task = task

    async def _heal(self, room_id: uuid.UUID, order: _RoomOrder) -> None:
        assert order.delivered is not None
        after, upto = order.delivered, max(order.waiting)
        try:
            found: list[Event] = await self._fetch(room_id, after, upto)
        except Exception:
            logger.exception("missing chat messages not read", extra={"room_id": str(room_id)})
            found = []
        finally:
            order.fetching = False
        self.healed += sum(1 for event in found if event.seq not in order.waiting)
        for event in found:
            if event.seq is not None and event.seq > order.delivered:
                order.waiting.setdefault(event.seq, event)
        # Whatever PostgreSQL did not have up to ``upto`` is not coming: move past it (a
        # client that misses it resumes).
        for seq in sorted(s for s in order.waiting if s <= upto):
            self._deliver(room_id, order.waiting.pop(seq))
        order.delivered = max(order.delivered, upto)
        self._flush(room_id, order)


@dataclass(slots=True)
class _RoomOrder:
    # The highest seq handed to the room's sockets (None until this process saw one).
    delivered: int | None = None
    waiting: dict[int, Event] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    fetching: bool = False
    task: asyncio.Task[None] | None = None


# Chat a heal after a Redis outage replays per room from PostgreSQL; a socket that missed more
# than this resumes itself (its next live message shows the gap).
HEAL_MAX_MESSAGES = 2000
HEAL_PAGE = 500
# While Redis is down, chat reaches the sockets from PostgreSQL, polled this often (and at
# once when this process stores a message); a seq still missing after GAP_WAIT_S (a
# transaction that never committed) is skipped.
CHAT_POLL_S = 0.25
GAP_WAIT_S = 1.0


class RedisOutage:
    """What this process did while Redis was unreachable, to put right when it is back."""

    def __init__(self, replay_limit: int) -> None:
        # Events published while Redis was down, to publish again (oldest dropped first).
        self.replay: deque[tuple[str, str]] = deque()
        self.replay_limit = replay_limit
        # Texts delivered locally already: their replay, coming back from Redis, is skipped.
        self.echoes: dict[str, int] = {}
        # The subscriber lost its connection (or a (un)subscribe failed): heal when back.
        self.disrupted = False
        # Sockets that closed while their presence could not be removed.
        self.pending_leaves: list[Connection] = []

    def keep(self, room_id: str, text: str, delivered_here: bool) -> None:
        if self.replay_limit <= 0:
            return
        if len(self.replay) >= self.replay_limit:
            _, dropped = self.replay.popleft()
            self.forget_echo(dropped)
        self.replay.append((room_id, text))
        if delivered_here:
            self.echoes[text] = self.echoes.get(text, 0) + 1

    def forget_echo(self, text: str) -> bool:
        """True (and forgotten) when ``text`` was delivered here before its replay."""
        count = self.echoes.get(text)
        if not count:
            return False
        if count == 1:
            del self.echoes[text]
        else:
            self.echoes[text] = count - 1
        return True


class RoomData(Protocol):
    """What the hub reads from and tells the domains about a room (the playback state, the
    chat). Implemented over the services by ``api/live/rooms.py``, so this package imports no
    domain code."""

    async def snapshot(self, redis: Redis, room_id: uuid.UUID) -> tuple[dict[str, Any], int]:
        """The playback state (its wire dict) and the room's latest chat seq."""
        ...

    async def playback_state(self, redis: Redis, room_id: uuid.UUID) -> dict[str, Any]:
        """The playback state now (moved on if its entry ended); raises while Redis fails."""
        ...

    def resync_frame(self, state: dict[str, Any]) -> BaseModel:
        """The ``playback`` frame (reason ``resync``) resending ``state``."""
        ...

    async def messages_since(
        self, room_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[tuple[int, BaseModel]]:
        """Stored chat messages with seq > after_seq, oldest first: (seq, message frame)."""
        ...

    async def listeners_changed(
        self, redis: Redis, room_id: uuid.UUID, arrived: list[str], left: list[str]
    ) -> None:
        """Users whose first socket in the room opened (listening history starts counting
        for them) and users whose last socket closed."""
        ...


@dataclass(frozen=True)
class RoomSnapshot:
    """What a socket's hello says of its room (the online list already encoded: the same
    text goes into every hello of a storm)."""

    playback: dict[str, Any]
    last_seq: int
    online_json: str


class Hub:
    def __init__(
        self,
        redis: Redis,
        subscriber: Redis,
        data: RoomData,
        *,
        presence_ttl_s: float,
        reorder_window_s: float = 0.2,
        admission_concurrency: int = 8,
        presence_grace_s: float = 60.0,
        replay_limit: int = 5000,
        playback_sweep_s: float = 0.25,
    ) -> None:
        self.redis = redis
        self.data = data
        # Sockets being admitted at once (api/live/endpoints.py).
        self.admission = asyncio.Semaphore(admission_concurrency)
        self.presence = Presence(redis, presence_ttl_s, presence_grace_s)
        self.presence_ttl_s = presence_ttl_s
        self.outage = RedisOutage(replay_limit)
        self.playback_sweep_s = playback_sweep_s
        # When the current entry of each local room ends (ms), and rooms being advanced.
        self._ends_at: dict[uuid.UUID, int] = {}
        self._advancing: set[uuid.UUID] = set()
        # Per room, listeners who arrived (True) or left (False) since the last flush, and
        # the rooms with a flush under way.
        self._listeners: dict[uuid.UUID, dict[str, bool]] = {}
        self._listener_flushes: set[uuid.UUID] = set()
        # Per room, the presence frames gathered for its sockets and the timer sending them.
        self._presence_batches: dict[uuid.UUID, list[Event]] = {}
        self._presence_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._chat_poll = asyncio.Event()
        self._gaps: dict[uuid.UUID, tuple[int, float]] = {}
        self._poller: asyncio.Task[None] | None = None
        self.process_id = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self.rooms: dict[uuid.UUID, set[Connection]] = {}
        self._subscriber = subscriber
        self._pubsub: PubSub = subscriber.pubsub(ignore_subscribe_messages=True)
        self._subscribed = asyncio.Event()
        self._channel_lock = asyncio.Lock()
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._housekeeper: asyncio.Task[None] | None = None
        self._budget_watch: asyncio.Task[None] | None = None
        self.sequencer = ChatSequencer(
            reorder_window_s, self._deliver_to_room, self._fetch_messages
        )
        # What a socket's hello tells: read once for all the sockets arriving meanwhile.
        self.snapshots: Coalesced[uuid.UUID, RoomSnapshot] = Coalesced(self._room_snapshot)
        # Set once the process is shutting down: new sockets are refused.
        self.closing = False

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read_events(), name="hub-reader")
        self._housekeeper = asyncio.create_task(self._housekeeping(), name="hub-presence")
        self._budget_watch = asyncio.create_task(self._watch_budgets(), name="hub-budgets")
        self._sweeper = asyncio.create_task(self._playback_sweep(), name="hub-playback-sweep")
        self._poller = asyncio.create_task(self._chat_from_database(), name="hub-chat-poll")
        set_publish_fallback(self.publish_failed)

    def close_all(self) -> None:
        """Close every socket with 1001 now (the process is stopping) and refuse new ones."""
        self.closing = True
        for connections in list(self.rooms.values()):
            for connection in list(connections):
                connection.close_now(CLOSE_GOING_AWAY, "server shutting down")

    async def stop(self) -> None:
        self.close_all()
        set_publish_fallback(None)
        for task in (
            self._reader,
            self._housekeeper,
            self._budget_watch,
            self._sweeper,
            self._poller,
        ):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.snapshots.close()
        for timer in self._timers.values():
            timer.cancel()
        for timer in self._presence_timers.values():
            timer.cancel()
        # Give writers a moment to deliver their close frames.
        writers = [c.writer for cs in self.rooms.values() for c in cs if c.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=2)
        # Leave presence for our sockets now rather than waiting for them to expire.
        at = now_ms()
        for connections in list(self.rooms.values()):
            for connection in list(connections):
                with contextlib.suppress(Exception):
                    await self._leave_presence(connection, at)
        for room_id in list(self._listeners):
            await self._tell_listeners(room_id)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._subscriber.aclose()

    def new_connection_id(self) -> str:
        return f"{self.process_id}:{next(self._ids)}"

    # --- sockets ---------------------------------------------------------------------------

    async def attach(self, connection: Connection) -> None:
        """Subscribe to the room (if new here) and count the socket in presence."""
        room_id = connection.room_id
        async with self._channel_lock:
            connections = self.rooms.setdefault(room_id, set())
            first_here = not connections
            connections.add(connection)
            if first_here:
                await self._subscribe(room_id)
        try:
            first_socket = await self.presence.join(
                str(room_id), str(connection.user_id), connection.id, connection.user_info, now_ms()
            )
        except RedisError:
            # The next refresh adds the socket and announces the user (see _refresh_presence).
            logger.warning("presence join deferred: Redis unreachable")
            first_socket = False
        if first_socket:
            online = await self._online_count(room_id)
            await publish(
                self.redis,
                room_id,
                JoinedFrame.model_validate({"user": connection.user_info, "online": online}),
            )
            self._listener_changed(room_id, str(connection.user_id), here=True)
        if first_here:
            self._spawn(self._schedule_from_db(room_id))

    async def detach(self, connection: Connection) -> None:
        connection.closed = True
        room_id = connection.room_id
        async with self._channel_lock:
            connections = self.rooms.get(room_id)
            if connections is not None:
                connections.discard(connection)
                if not connections:
                    del self.rooms[room_id]
                    timer = self._timers.pop(room_id, None)
                    if timer is not None:
                        timer.cancel()
                    self._ends_at.pop(room_id, None)
                    await self._unsubscribe(room_id)
        try:
            await self._leave_presence(connection, now_ms())
        except RedisError:
            # Retried by the housekeeping once Redis is back (see _retry_leaves).
            logger.warning("presence leave deferred: Redis unreachable")
            self.outage.pending_leaves.append(connection)

    async def _leave_presence(self, connection: Connection, at_ms: int) -> None:
        room_id = connection.room_id
        if await self.presence.leave(str(room_id), str(connection.user_id), connection.id, at_ms):
            await self._announce_left(room_id, connection.user_info)

    async def _subscribe(self, room_id: uuid.UUID) -> None:
        self._subscribed.set()
        try:
            await self._pubsub.subscribe(room_channel(room_id))
        except RedisError:
            # The reader reconciles the channels with the rooms once Redis answers again.
            logger.warning("room subscription deferred: Redis unreachable")
            self.outage.disrupted = True

    async def _unsubscribe(self, room_id: uuid.UUID) -> None:
        try:
            await self._pubsub.unsubscribe(room_channel(room_id))
        except RedisError:
            self.outage.disrupted = True

    async def _online_count(self, room_id: uuid.UUID) -> int:
        try:
            return await self.presence.count(str(room_id), now_ms())
        except RedisError:
            return len({c.user_id for c in self.rooms.get(room_id, ()) if not c.closed})

    async def online_json(self, room_id: uuid.UUID) -> str:
        """Who is in the room (a JSON list of user infos); while Redis is down, the users of
        this process's sockets."""
        try:
            return await self.presence.online_json(str(room_id), now_ms())
        except RedisError:
            local: dict[uuid.UUID, dict[str, Any]] = {}
            for c in self.rooms.get(room_id, ()):
                local.setdefault(c.user_id, c.user_info)
            return json.dumps(list(local.values()), separators=(",", ":"), default=str)

    async def _room_snapshot(self, room_id: uuid.UUID) -> RoomSnapshot:
        """The playback state, the latest chat seq and who is online, read now."""
        playback, last_seq = await self.data.snapshot(self.redis, room_id)
        self.sequencer.note_stored(room_id, last_seq)
        return RoomSnapshot(
            playback=playback, last_seq=last_seq, online_json=await self.online_json(room_id)
        )

    async def _announce_joined(self, room_id: uuid.UUID, user_info: dict[str, Any]) -> None:
        online = await self._online_count(room_id)
        frame = JoinedFrame.model_validate({"user": user_info, "online": online})
        await publish(self.redis, room_id, frame)

    async def _announce_left(self, room_id: uuid.UUID, user_info: dict[str, Any]) -> None:
        online = await self._online_count(room_id)
        await publish(
            self.redis, room_id, LeftFrame.model_validate({"user": user_info, "online": online})
        )
        self._listener_changed(room_id, str(user_info.get("id")), here=False)

    def _listener_changed(self, room_id: uuid.UUID, user_id: str, *, here: bool) -> None:
        """Note an arrival or a departure for the room's next listening-history flush (the
        latest of a user's changes within one batch wins)."""
        self._listeners.setdefault(room_id, {})[user_id] = here
        if room_id not in self._listener_flushes:
            self._listener_flushes.add(room_id)
            self._spawn(self._flush_listeners(room_id))

    async def _flush_listeners(self, room_id: uuid.UUID) -> None:
        try:
            while True:
                await asyncio.sleep(LISTENERS_FLUSH_S)
                if not await self._tell_listeners(room_id):
                    return
        finally:
            self._listener_flushes.discard(room_id)

    async def _tell_listeners(self, room_id: uuid.UUID) -> bool:
        pending = self._listeners.pop(room_id, None)
        if not pending:
            return False
        arrived = [user for user, here in pending.items() if here]
        left = [user for user, here in pending.items() if not here]
        try:
            await self.data.listeners_changed(self.redis, room_id, arrived, left)
        except Exception as exc:
            # Listening history is best effort: a listener missed here is re-marked when the
            # next entry starts (the playback service marks everyone online then).
            logger.warning("listening history not updated: %s: %s", type(exc).__name__, exc)
        return True

    # --- events from Redis -----------------------------------------------------------------

    async def _read_events(self) -> None:
        failures = 0
        while True:
            if not self.rooms and not self.outage.disrupted:
                self._subscribed.clear()
                await self._subscribed.wait()
            try:
                if self.outage.disrupted:
                    await self._heal()
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.2)
                    continue
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Redis went away: redis-py reconnects (and re-subscribes) on the next read;
                # what was missed meanwhile is healed once it answers again.
                self.outage.disrupted = True
                failures += 1
                if failures == 1:
                    logger.warning("room event subscriber lost Redis (%s)", type(exc).__name__)
                # Retried often: a refused connection costs nothing, and playback and chat
                # on other processes wait for this one to be back.
                await asyncio.sleep(min(0.05 * 2**failures, 0.25))
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                self._dispatch(message["channel"], message["data"])
            except Exception:
                logger.exception("room event not delivered")

    async def _heal(self) -> None:
        """Redis answers again: subscribe to exactly our rooms, publish what we kept, and give
        our sockets what they may have missed meanwhile (raises while Redis is still down)."""
        await self._pubsub.ping()
        wanted = {room_channel(room_id) for room_id in self.rooms}
        have = {c.decode() if isinstance(c, bytes) else str(c) for c in self._pubsub.channels}
        if wanted - have:
            await self._pubsub.subscribe(*(wanted - have))
        if have - wanted:
            await self._pubsub.unsubscribe(*(have - wanted))
        outage = self.outage
        while outage.replay:
            channel_room, text = outage.replay[0]
            await self.redis.publish(room_channel(channel_room), text)
            outage.replay.popleft()
        outage.disrupted = False
        logger.info("room event subscriber back: healing %d rooms", len(self.rooms))
        # The chat first, before this reader takes the next live event: the live messages
        # then follow what the sockets missed, without a gap.
        rooms = list(self.rooms)
        await asyncio.gather(*(self._heal_chat(room_id) for room_id in rooms))
        for room_id in rooms:
            self._spawn(self._heal_room(room_id))
        self._sweep_now()

    async def _heal_chat(self, room_id: uuid.UUID) -> None:
        """Deliver the chat our sockets of ``room_id`` missed."""
        try:
            await asyncio.wait_for(self._deliver_stored_chat(room_id, contiguous=False), 5)
        except Exception:
            logger.exception("chat not healed", extra={"room_id": str(room_id)})

    async def _heal_room(self, room_id: uuid.UUID) -> None:
        """Send our sockets of ``room_id`` the current playback (and reschedule its end)."""
        if not any(not c.closed for c in self.rooms.get(room_id, ())):
            return
        state = await self._current_state(room_id)
        if state is not None and room_id in self.rooms:
            event = Event("playback", encode_frame(self.data.resync_frame(state)))
            for connection in list(self.rooms.get(room_id, ())):
                connection.deliver(event)
            self._schedule(room_id, state)

    async def _deliver_stored_chat(self, room_id: uuid.UUID, *, contiguous: bool) -> None:
        """Give our sockets of the room the stored messages after the lowest seq one of them
        has, in order (each socket skips what it already has). ``contiguous``: stop at a
        missing seq (another process's transaction may not have committed yet) unless it has
        been missing for GAP_WAIT_S."""
        connections = [c for c in self.rooms.get(room_id, ()) if not c.closed]
        if not connections:
            return
        cursor = min(c.last_seq for c in connections)
        sent = 0
        while sent < HEAL_MAX_MESSAGES:
            messages = await self.data.messages_since(room_id, cursor, HEAL_PAGE)
            for seq, frame in messages:
                if contiguous and seq != cursor + 1:
                    gap = self._gaps.get(room_id)
                    if gap is None or gap[0] != cursor + 1:
                        self._gaps[room_id] = (cursor + 1, time.monotonic())
                        return
                    if time.monotonic() - gap[1] < GAP_WAIT_S:
                        return
                self._gaps.pop(room_id, None)
                event = Event("message", encode_frame(frame), seq)
                for connection in list(self.rooms.get(room_id, ())):
                    connection.deliver(event)
                cursor = seq
                self.sequencer.delivered_from_store(room_id, seq)
            sent += len(messages)
            if len(messages) < HEAL_PAGE:
                return

    async def _chat_from_database(self) -> None:
        """While Redis is down, every process's chat reaches our sockets from PostgreSQL, in
        seq order (no gaps for clients to resume), within CHAT_POLL_S."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._chat_poll.wait(), CHAT_POLL_S)
            self._chat_poll.clear()
            if not self.outage.disrupted:
                continue
            for room_id in list(self.rooms):
                try:
                    await self._deliver_stored_chat(room_id, contiguous=True)
                except Exception as exc:
                    logger.warning("chat not polled from the database: %s", exc)

    def publish_failed(self, room_id: str, text: str) -> None:
        """Redis refused a publish: our sockets get the event now (chat through the database
        poll, in seq order with the other processes' messages), the others on replay."""
        room = uuid.UUID(room_id)
        delivered_here = bool(self.rooms.get(room))
        if delivered_here and json.loads(text).get("type") == "message":
            delivered_here = False
            self._chat_poll.set()
        if delivered_here:
            try:
                self._dispatch(room_channel(room_id), text)
            except Exception:
                logger.exception("room event not delivered locally")
        self.outage.keep(room_id, text, delivered_here)
        self.outage.disrupted = True
        self._subscribed.set()

    def _dispatch(self, channel: str, text: str) -> None:
        if self.outage.echoes and self.outage.forget_echo(text):
            return  # our own replay: delivered here while Redis was down
        room_id = uuid.UUID(channel[len(CHANNEL_PREFIX) :])
        connections = self.rooms.get(room_id)
        if not connections:
            return
        data = json.loads(text)
        kind = data.get("type", "")
        event = Event(kind, text, data.get("seq") if kind == "message" else None, data)
        if event.seq is not None:
            self.sequencer.admit(room_id, event)
        else:
            self._deliver_to_room(room_id, event)
        if kind == "playback":
            self._schedule(room_id, data.get("state") or {})
        elif kind == "member_left":
            # A socket means membership: whoever left the room (over REST) is disconnected.
            for connection in list(connections):
                if str(connection.user_id) == data.get("user_id"):
                    connection.drop(CLOSE_NOT_A_MEMBER, "left the room")
        elif kind == "room_deleted":
            timer = self._timers.pop(room_id, None)
            if timer is not None:
                timer.cancel()

    # --- playback timers -------------------------------------------------------------------

    def _schedule(self, room_id: uuid.UUID, state: dict[str, Any]) -> None:
        timer = self._timers.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        self._ends_at.pop(room_id, None)
        if room_id not in self.rooms or state.get("status") != "playing":
            return
        track = state.get("track") or {}
        started_at_ms = state.get("started_at_ms")
        if started_at_ms is None or not track.get("duration_ms"):
            return
        self._ends_at[room_id] = started_at_ms + track["duration_ms"]
        delay_s = max(0.0, (started_at_ms + track["duration_ms"] - now_ms()) / 1000) + 0.005
        loop = asyncio.get_running_loop()
        self._timers[room_id] = loop.call_later(
            delay_s, lambda: self._spawn(self._advance(room_id))
        )

    async def _schedule_from_db(self, room_id: uuid.UUID) -> None:
        state = await self._current_state(room_id)
        if state is not None:
            self._schedule(room_id, state)

    async def _advance(self, room_id: uuid.UUID) -> None:
        self._timers.pop(room_id, None)
        if room_id in self._advancing:
            return
        self._advancing.add(room_id)
        try:
            state = await self._current_state(room_id)
        finally:
            self._advancing.discard(room_id)
        if state is not None:
            # Another process may have won the transition: its event reschedules us too.
            self._schedule(room_id, state)
        # A failed read or transition leaves _ends_at behind: the sweep retries it.

    async def _playback_sweep(self) -> None:
        """Retry every end-of-track transition that did not land (Redis or PostgreSQL down
        when it fired, an event missed): a room whose entry ended is advanced again."""
        while True:
            await asyncio.sleep(self.playback_sweep_s)
            self._sweep_now()

    def _sweep_now(self) -> None:
        at = now_ms()
        for room_id, ends_at in list(self._ends_at.items()):
            if at >= ends_at + 100 and room_id not in self._advancing:
                self._spawn(self._advance(room_id))

    async def _current_state(self, room_id: uuid.UUID) -> dict[str, Any] | None:
        try:
            return await self.data.playback_state(self.redis, room_id)
        except RedisError as exc:
            logger.warning("playback state not advanced: Redis unreachable (%s)", exc)
            return None
        except Exception:
            logger.exception("playback state not read", extra={"room_id": str(room_id)})
            return None

    # --- presence housekeeping -------------------------------------------------------------

    async def _housekeeping(self) -> None:
        interval_s = self.presence_ttl_s / 3
        healthy_ticks = 0
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self._refresh_presence()
                if healthy_ticks >= 1:
                    # Redis has answered for a whole period: every process re-added its
                    # sockets, so a user missing now really left.
                    await self._retry_leaves()
                for room_id, users in (await self.presence.sweep(now_ms())).items():
                    for user in users:
                        info = user.info or {"id": user.user_id}
                        await self._announce_left(uuid.UUID(room_id), info)
                healthy_ticks += 1
            except asyncio.CancelledError:
                raise
            except RedisError as exc:
                healthy_ticks = 0
                logger.warning("presence housekeeping: Redis unreachable (%s)", type(exc).__name__)
            except Exception:
                healthy_ticks = 0
                logger.exception("presence housekeeping failed")

    # --- chat order and send budgets ----------------------------------------------------

    def _deliver_to_room(self, room_id: uuid.UUID, event: Event) -> None:
        if event.type in PRESENCE_TYPES:
            batch = self._presence_batches.get(room_id)
            if batch is None:
                self._presence_batches[room_id] = [event]
                self._presence_timers[room_id] = asyncio.get_running_loop().call_later(
                    PRESENCE_BATCH_S, self._send_presence, room_id
                )
            else:
                batch.append(event)
            return
        if room_id in self._presence_batches:
            self._send_presence(room_id)
        for connection in list(self.rooms.get(room_id, ())):
            connection.deliver(event)

    def _send_presence(self, room_id: uuid.UUID) -> None:
        """The room's gathered presence changes to its sockets: one as its own frame, several
        as one ``presence`` frame (their texts in order, not decoded again)."""
        timer = self._presence_timers.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        events = self._presence_batches.pop(room_id, None)
        if not events:
            return
        if len(events) == 1:
            event = events[0]
        else:
            texts = ",".join(e.text for e in events)
            event = Event("presence", '{"type":"presence","events":[' + texts + "]}")
        for connection in list(self.rooms.get(room_id, ())):
            connection.deliver(event)

    async def _fetch_messages(
        self, room_id: uuid.UUID, after_seq: int, upto_seq: int
    ) -> list[Event]:
        messages = await self.data.messages_since(room_id, after_seq, upto_seq - after_seq)
        return [
            Event("message", encode_frame(frame), seq) for seq, frame in messages if seq <= upto_seq
        ]

    async def _watch_budgets(self) -> None:
        while True:
            await asyncio.sleep(BUDGET_CHECK_S)
            try:
                now = time.monotonic()
                for connections in list(self.rooms.values()):
                    for connection in list(connections):
                        connection.check_budget(now)
                self.sequencer.forget_all_but(set(self.rooms))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("send budget check failed")

    async def _refresh_presence(self) -> None:
        """Heartbeat: push our sockets' expiry, re-adding (and announcing) what was lost."""
        mine = [
            (str(c.room_id), str(c.user_id), c.id, c.user_info)
            for connections in self.rooms.values()
            for c in connections
            if not c.closed
        ]
        readded = await self.presence.refresh(mine, now_ms(), self.process_id)
        for room_id, users in readded.items():
            for user in users:
                await self._announce_joined(uuid.UUID(room_id), user.info)

    async def _retry_leaves(self) -> None:
        pending, self.outage.pending_leaves = self.outage.pending_leaves, []
        for connection in pending:
            room, user = str(connection.room_id), str(connection.user_id)
            try:
                last = await self.presence.leave(room, user, connection.id, now_ms())
                if last or not await self.presence.present(room, user):
                    await self._announce_left(connection.room_id, connection.user_info)
            except RedisError:
                self.outage.pending_leaves.append(connection)
                raise

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.warning("hub task failed: %s: %s", type(exc).__name__, exc)


_hub: Hub | None = None
_hub_lock: asyncio.Lock | None = None


async def get_hub(settings: Settings, redis: Redis, data: RoomData) -> Hub:
    """The process's hub, started on first use (the lifespan stops it) with the app's
    settings and Redis client; ``data`` is how it reaches the rooms' playback and chat
    (``api/live/rooms.py``)."""
    global _hub, _hub_lock
    if _hub is not None:
        return _hub
    if _hub_lock is None:
        _hub_lock = asyncio.Lock()
    async with _hub_lock:
        if _hub is None:
            # Its own connection: a connection in subscribe mode runs no other commands.
            subscriber = new_redis(settings)
            hub = Hub(
                redis,
                subscriber,
                data,
                presence_ttl_s=settings.ws_presence_ttl_s,
                presence_grace_s=settings.ws_presence_process_grace_s,
                replay_limit=settings.ws_replay_buffer_events,
                playback_sweep_s=settings.playback_sweep_interval_s,
                reorder_window_s=settings.ws_reorder_window_s,
                admission_concurrency=settings.ws_admission_concurrency,
            )
            hub.start()
            _hub = hub
            logger.info("live hub started", extra={"pid": os.getpid()})
    return _hub


def close_live_sockets() -> None:
    """Close this process's live sockets with 1001 now (SIGTERM); refuse new ones."""
    if _hub is not None:
        _hub.close_all()


async def stop_hub() -> None:
    global _hub, _hub_lock
    hub, _hub, _hub_lock = _hub, None, None
    if hub is not None:
        await hub.stop()
