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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from starlette.websockets import WebSocket

from api.config import Settings
from api.db import session_scope
from api.playback.service import playback_service
from api.realtime.events import CHANNEL_PREFIX, encode, now_ms, publish, room_channel
from api.realtime.presence import Presence
from api.redis import get_redis, redis_ssl_options

logger = logging.getLogger(__name__)

CLOSE_SLOW_CONSUMER = 4408
CLOSE_ROOM_DELETED = 4410
CLOSE_NOT_A_MEMBER = 4403


class Pong:
    """A pong whose server send time (t2) is stamped by the writer, right before sending."""

    __slots__ = ("t0", "t1")

    def __init__(self, t0: float, t1: int) -> None:
        self.t0 = t0
        self.t1 = t1

    def render(self) -> str:
        return encode({"type": "pong", "t0": self.t0, "t1": self.t1, "t2": now_ms()})


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


class Connection:
    """One accepted socket: its identity, its bounded send queue and its chat position."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        connection_id: str,
        room_id: uuid.UUID,
        user_id: uuid.UUID,
        user_info: dict[str, Any],
        queue_frames: int,
    ) -> None:
        self.websocket = websocket
        self.id = connection_id
        self.room_id = room_id
        self.user_id = user_id
        self.user_info = user_info
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue(queue_frames)
        # The highest chat seq this socket was sent; live messages at or below are skipped.
        self.last_seq = 0
        # While a resume (or the hello) is being served, room events wait here.
        self.held: list[Event] | None = []
        self.closed = False
        self.writer: asyncio.Task[None] | None = None
        # Called when the server drops the socket, so its reader stops waiting for the peer.
        self.on_drop: Callable[[], None] | None = None

    def offer(self, item: Outgoing) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.drop(CLOSE_SLOW_CONSUMER, "too slow: send queue overflow")

    def deliver(self, event: Event) -> None:
        if self.held is not None:
            self.held.append(event)
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
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(Close(code, reason))
        if self.on_drop is not None:
            self.on_drop()

    async def write_loop(self) -> None:
        websocket = self.websocket
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, Close):
                    with contextlib.suppress(Exception):
                        await websocket.close(item.code, item.reason)
                    return
                await websocket.send_text(item if isinstance(item, str) else item.render())
        except Exception:
            # The peer went away; the reader notices and cleans up.
            self.closed = True


class Hub:
    def __init__(self, redis: Redis, subscriber: Redis, *, presence_ttl_s: float) -> None:
        self.redis = redis
        self.presence = Presence(redis, presence_ttl_s)
        self.presence_ttl_s = presence_ttl_s
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

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read_events(), name="hub-reader")
        self._housekeeper = asyncio.create_task(self._housekeeping(), name="hub-presence")

    async def stop(self) -> None:
        for connections in list(self.rooms.values()):
            for connection in list(connections):
                connection.drop(1001, "server shutting down")
        for task in (self._reader, self._housekeeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for timer in self._timers.values():
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
                await self._pubsub.subscribe(room_channel(room_id))
                self._subscribed.set()
        first_socket = await self.presence.join(
            str(room_id), str(connection.user_id), connection.id, connection.user_info, now_ms()
        )
        if first_socket:
            online = await self.presence.count(str(room_id), now_ms())
            await publish(
                self.redis,
                room_id,
                {"type": "joined", "user": connection.user_info, "online": online},
            )
            self._spawn(
                playback_service.listener_arrived(self.redis, room_id, str(connection.user_id))
            )
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
                    await self._pubsub.unsubscribe(room_channel(room_id))
        await self._leave_presence(connection, now_ms())

    async def _leave_presence(self, connection: Connection, at_ms: int) -> None:
        room_id = connection.room_id
        if await self.presence.leave(str(room_id), str(connection.user_id), connection.id, at_ms):
            await self._announce_left(room_id, connection.user_info)

    async def _announce_left(self, room_id: uuid.UUID, user_info: dict[str, Any]) -> None:
        online = await self.presence.count(str(room_id), now_ms())
        await publish(self.redis, room_id, {"type": "left", "user": user_info, "online": online})
        with contextlib.suppress(Exception):
            await playback_service.listener_left(self.redis, room_id, str(user_info.get("id")))

    # --- events from Redis -----------------------------------------------------------------

    async def _read_events(self) -> None:
        while True:
            if not self._pubsub.subscribed:
                self._subscribed.clear()
                await self._subscribed.wait()
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("room event subscriber failed; reconnecting")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                self._dispatch(message["channel"], message["data"])
            except Exception:
                logger.exception("room event not delivered")

    def _dispatch(self, channel: str, text: str) -> None:
        room_id = uuid.UUID(channel[len(CHANNEL_PREFIX) :])
        connections = self.rooms.get(room_id)
        if not connections:
            return
        data = json.loads(text)
        kind = data.get("type", "")
        event = Event(kind, text, data.get("seq") if kind == "message" else None, data)
        for connection in list(connections):
            connection.deliver(event)
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
        if room_id not in self.rooms or state.get("status") != "playing":
            return
        track = state.get("track") or {}
        started_at_ms = state.get("started_at_ms")
        if started_at_ms is None or not track.get("duration_ms"):
            return
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
        state = await self._current_state(room_id)
        if state is not None:
            # Another process may have won the transition: its event reschedules us too.
            self._schedule(room_id, state)

    async def _current_state(self, room_id: uuid.UUID) -> dict[str, Any] | None:
        try:
            async with session_scope() as session:
                state = await playback_service.current(session, self.redis, room_id)
            return state.wire()
        except Exception:
            logger.exception("playback state not read", extra={"room_id": str(room_id)})
            return None

    # --- presence housekeeping -------------------------------------------------------------

    async def _housekeeping(self) -> None:
        interval_s = self.presence_ttl_s / 3
        while True:
            await asyncio.sleep(interval_s)
            try:
                at = now_ms()
                mine = [
                    (str(c.room_id), str(c.user_id), c.id)
                    for connections in self.rooms.values()
                    for c in connections
                    if not c.closed
                ]
                await self.presence.refresh(mine, at)
                for room_id, users in (await self.presence.sweep(at)).items():
                    for user in users:
                        info = user.info or {"id": user.user_id}
                        await self._announce_left(uuid.UUID(room_id), info)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("presence housekeeping failed")

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_hub: Hub | None = None
_hub_lock: asyncio.Lock | None = None


async def get_hub(settings: Settings) -> Hub:
    """The process's hub, started on first use (the lifespan stops it)."""
    global _hub, _hub_lock
    if _hub is not None:
        return _hub
    if _hub_lock is None:
        _hub_lock = asyncio.Lock()
    async with _hub_lock:
        if _hub is None:
            url = settings.require_redis_url()
            # Its own connection: a connection in subscribe mode runs no other commands.
            subscriber = Redis.from_url(
                url, decode_responses=True, **(redis_ssl_options(url) or {})
            )
            hub = Hub(get_redis(), subscriber, presence_ttl_s=settings.ws_presence_ttl_s)
            hub.start()
            _hub = hub
            logger.info("live hub started", extra={"pid": os.getpid()})
    return _hub


async def stop_hub() -> None:
    global _hub, _hub_lock
    hub, _hub, _hub_lock = _hub, None, None
    if hub is not None:
        await hub.stop()
