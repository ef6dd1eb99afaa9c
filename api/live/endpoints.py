"""``WS /ws/chat/{room_id}``: the room's live channel (docs/realtime.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketDisconnect

from api.auth.tokens import decode_access_claims
from api.auth.ws_tickets import redeem_ticket
from api.chat.schemas import MessageCreate, MessageFrame
from api.chat.service import chat_service
from api.core.config import Settings
from api.core.db import session_scope, use_autocommit
from api.core.exceptions import Forbidden, NotFound, TooManyRequests, TuneWaveError, Unauthorized
from api.live.rooms import DomainRoomData
from api.live.wire import parse_frame
from api.models import Room, User
from api.playback.service import StaleVersion, playback_service
from api.realtime.events import now_ms
from api.realtime.frames import FrameError, frame_dict
from api.realtime.hub import CLOSE_GOING_AWAY, Connection, Hub, Pong, SendBudget, get_hub
from api.realtime.schemas import (
    ErrorFrame,
    HelloFrame,
    PingFrame,
    PresenceUser,
    ResumedFrame,
    encode_frame,
)
from api.realtime.socket_control import control_for
from api.realtime.sockets import claim_slot
from api.rooms.service import rooms_service

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

CLOSE_INVALID_TOKEN = 4401
CLOSE_TOKEN_EXPIRED = 4402
CLOSE_MEMBERS_ONLY = 4403
CLOSE_ROOM_NOT_FOUND = 4404
CLOSE_ORIGIN_NOT_ALLOWED = 4405
CLOSE_TOO_MANY_SOCKETS = 4409
CLOSE_FRAME_TOO_LARGE = 4413
CLOSE_FLOODING = 4429

# Messages a resume sends per database round trip.
RESUME_BATCH = 500
PLAYBACK_ACTIONS = frozenset({"play", "pause", "seek", "skip"})
# How long a dropped socket's close frame may take before the connection is cut.
DROP_GRACE_S = 2.0
# Frames waiting for the connection's worker (chat, playback, resume); pings skip the line.
INBOX_FRAMES = 16
# How long a closing connection waits for its cancelled worker.
WORKER_STOP_S = 2.0


class Refusal(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FloodGuard:
    """A token bucket per connection, and a close once refusals pile up."""

    def __init__(self, settings: Settings) -> None:
        self.rate = settings.ws_frames_per_s
        self.burst = float(settings.ws_frame_burst)
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self.strikes: deque[float] = deque()
        self.max_strikes = settings.ws_flood_strikes
        self.window_s = settings.ws_flood_window_s

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.strikes.append(now)
        while self.strikes and self.strikes[0] < now - self.window_s:
            self.strikes.popleft()
        return False

    @property
    def flooding(self) -> bool:
        return len(self.strikes) > self.max_strikes

    def retry_after_s(self) -> float:
        return round(max(0.0, 1 - self.tokens) / self.rate, 3)


class WorkPace:
    """How long a connection's frames take to handle, to tell a client that sends faster
    than that when to try again."""

    def __init__(self) -> None:
        self.average_s = 0.05

    def note(self, took_s: float) -> None:
        self.average_s += (took_s - self.average_s) * 0.2

    def retry_after_s(self, waiting: int) -> float:
        return round(min(10.0, max(0.1, self.average_s * max(1, waiting))), 3)


@dataclass(frozen=True, slots=True)
class Live:
    """What the channel's handlers use: the app's settings, sessionmaker and Redis client
    (``app.state``, set by api/main.py from one ``Settings``), as REST's dependencies do."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis

    @classmethod
    def of(cls, websocket: WebSocket) -> Live:
        state = websocket.app.state
        return cls(state.settings, state.sessionmaker, state.redis)


def send_budget(settings: Settings) -> SendBudget:
    return SendBudget(
        frames=settings.ws_send_queue_frames,
        bytes=settings.ws_send_budget_bytes,
        grace_s=settings.ws_slow_consumer_grace_s,
    )


def error_frame(code: str, detail: Any, **extra: Any) -> str:
    return encode_frame(ErrorFrame(code=code, detail=detail, **extra))


async def _authenticate(websocket: WebSocket, live: Live) -> tuple[uuid.UUID, int]:
    """The user of a ``ticket`` (browsers) or ``token`` (API clients), and when the token
    behind it expires (epoch seconds). Raises Refusal."""
    ticket = websocket.query_params.get("ticket")
    if ticket is not None:
        redeemed = await redeem_ticket(live.redis, ticket)
        if redeemed is None:
            raise Refusal(CLOSE_INVALID_TOKEN, "invalid or used ticket")
        if redeemed.token_expires_at_s <= time.time():
            raise Refusal(CLOSE_TOKEN_EXPIRED, "token expired")
        return redeemed.user_id, redeemed.token_expires_at_s
    token = websocket.query_params.get("token")
    if not token:
        raise Refusal(CLOSE_INVALID_TOKEN, "missing token")
    try:
        claims = decode_access_claims(live.settings, token)
    except Unauthorized as exc:
        if exc.detail == "token expired":
            raise Refusal(CLOSE_TOKEN_EXPIRED, "token expired") from exc
        raise Refusal(CLOSE_INVALID_TOKEN, "invalid token") from exc
    return claims.user_id, claims.expires_at_s


async def _admit(websocket: WebSocket, room_id: str, live: Live) -> tuple[User, Room, int]:
    """Check origin, token, room and access (``rooms_service.admit``: a public room joins
    the user). Raises Refusal."""
    origin = websocket.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in live.settings.ws_origins:
        raise Refusal(CLOSE_ORIGIN_NOT_ALLOWED, "origin not allowed")
    user_id, expires_at_s = await _authenticate(websocket, live)
    try:
        room_uuid = uuid.UUID(room_id)
    except ValueError as exc:
        raise Refusal(CLOSE_ROOM_NOT_FOUND, "room not found") from exc
    async with session_scope(live.sessionmaker) as session:
        # The token's user (as REST's dependencies read it, api/deps.py), the room and the
        # membership in one query, without BEGIN and COMMIT round trips (see admit).
        await use_autocommit(session)
        try:
            admitted = await rooms_service.admit(session, user_id, room_uuid)
        except NotFound as exc:
            raise Refusal(CLOSE_ROOM_NOT_FOUND, "room not found") from exc
        except Forbidden as exc:
            raise Refusal(CLOSE_MEMBERS_ONLY, "members only") from exc
        if admitted is None:
            raise Refusal(CLOSE_INVALID_TOKEN, "unknown user")
    user, room = admitted
    return user, room, expires_at_s


@router.websocket("/ws/chat/{room_id}")
async def room_channel(websocket: WebSocket, room_id: str) -> None:
    """The room's live channel: chat, presence, playback and queue events."""
    live = Live.of(websocket)
    settings = live.settings
    hub = await get_hub(settings, live.redis, DomainRoomData(live.sessionmaker))
    # A storm of arrivals takes turns for the database and Redis work of connecting (the
    # gate is released once the hello is queued) instead of exhausting both pools.
    gate = hub.admission
    await gate.acquire()
    gated = True

    def ungate() -> None:
        nonlocal gated
        if gated:
            gated = False
            gate.release()

    try:
        user, room, expires_at_s = await _admit(websocket, room_id, live)
        slot = await claim_slot(
            live.redis,
            user.id,
            uuid.uuid4().hex,
            cap=settings.ws_max_sockets_per_user,
            ttl_s=settings.ws_socket_slot_ttl_s,
        )
        if slot is None:
            raise Refusal(
                CLOSE_TOO_MANY_SOCKETS,
                f"too many connections (limit {settings.ws_max_sockets_per_user} per user)",
            )
    except Refusal as refusal:
        ungate()
        # Browsers see nothing of a refused handshake, so accept only to say why, then close.
        await websocket.accept()
        await websocket.close(refusal.code, refusal.reason)
        return
    except Exception:
        ungate()
        logger.exception("live channel admission failed")
        await websocket.close(1011)
        return
    except BaseException:
        ungate()
        raise

    try:
        await websocket.accept()
    except BaseException:
        ungate()
        raise
    if hub.closing:
        ungate()
        await websocket.close(CLOSE_GOING_AWAY, "server shutting down")
        return
    info = PresenceUser(
        id=user.id,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        is_demo=user.is_demo,
    ).model_dump(mode="json")
    connection = Connection(
        websocket,
        connection_id=hub.new_connection_id(),
        room_id=room.id,
        user_id=user.id,
        user_info=info,
        budget=send_budget(settings),
        control=control_for(websocket.scope),
    )
    connection.writer = asyncio.create_task(connection.write_loop())
    slot.keep_alive()
    # The socket lives no longer than the token it was opened with (docs/realtime.md).
    expiry = asyncio.get_running_loop().call_later(
        max(0.0, expires_at_s - time.time()),
        connection.drop,
        CLOSE_TOKEN_EXPIRED,
        "token expired",
    )
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(INBOX_FRAMES)
    pace = WorkPace()
    worker: asyncio.Task[None] | None = None

    def dispatch(frame: dict[str, Any]) -> float | None:
        """Queue a frame for the worker; when the inbox is full, the seconds after which
        the client should try again (backpressure, not a growing queue)."""
        nonlocal worker
        # The worker starts with the first frame that needs it: idle listeners cost no task.
        if worker is None:
            worker = asyncio.create_task(_work(live, connection, user, inbox, pace))
        try:
            inbox.put_nowait(frame)
        except asyncio.QueueFull:
            return pace.retry_after_s(inbox.qsize())
        return None

    reading: asyncio.Task[None] | None = None
    try:
        await hub.attach(connection)
        await _hello(hub, connection)
        ungate()
        reading = asyncio.create_task(_read(websocket, settings, connection, dispatch))
        # A socket the server drops (a stalled reader) may never send another frame: stop
        # waiting for it once its close frame had a moment to go out.
        loop = asyncio.get_running_loop()
        stop_reading = reading.cancel

        def stop_soon() -> None:
            loop.call_later(DROP_GRACE_S, stop_reading)

        connection.on_drop = stop_soon
        await asyncio.wait([reading])
        if not reading.cancelled():
            reading.result()
    except WebSocketDisconnect:
        pass
    except Exception:
        logger.exception("live channel failed", extra={"room_id": str(room.id)})
        connection.drop(1011, "internal error")
    finally:
        ungate()
        expiry.cancel()
        await slot.release()
        if reading is not None and not reading.done():
            reading.cancel()
        if worker is not None:
            worker.cancel()
            # Bounded: a worker stuck in a call that ignores cancellation must not keep the
            # handler (and a stopping process) alive.
            await asyncio.wait([worker], timeout=WORKER_STOP_S)
        # Leaving takes a turn too: a mass disconnect must not exhaust the Redis pool.
        async with hub.admission:
            await hub.detach(connection)
        # Let the writer send what is queued (a close frame with its reason, usually).
        if not connection.closed:
            connection.drop(1000, "")
        writer = connection.writer
        if writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(writer, timeout=DROP_GRACE_S)


async def _hello(hub: Hub, connection: Connection) -> None:
    """The first frame: who is here, the playback state and the room's latest chat seq.

    Read after the socket is attached (so no event between the read and the subscription
    is missed), and shared with the other sockets arriving meanwhile (``hub.snapshots``)."""
    snapshot = await hub.snapshots.get(connection.room_id)
    # The online list goes in already encoded: the same text for a whole storm's hellos.
    head = HelloFrame(
        room_id=connection.room_id,
        user_id=connection.user_id,
        connection_id=connection.id,
        server_time_ms=now_ms(),
        last_seq=snapshot.last_seq,
        playback=snapshot.playback,
        online=[],
    ).model_dump_json(exclude={"online"})
    connection.offer(f'{head[:-1]},"online":{snapshot.online_json}}}')
    # Live messages up to last_seq are history the client pages (or resumes) itself.
    connection.last_seq = max(connection.last_seq, snapshot.last_seq)
    connection.release()


async def _read(
    websocket: WebSocket,
    settings: Settings,
    connection: Connection,
    dispatch: Callable[[dict[str, Any]], float | None],
) -> None:
    guard = FloodGuard(settings)
    while not connection.closed:
        # A client whose answers back up is not read further until they drain: it cannot
        # make the server queue replies faster than it takes them (TCP pushes back on it).
        await connection.wait_roomy()
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        received_ms = now_ms()
        raw = message.get("text")
        if raw is None:
            size = len(message.get("bytes") or b"")
        else:
            size = len(raw) if len(raw) * 4 <= settings.ws_max_frame_bytes else len(raw.encode())
        if size > settings.ws_max_frame_bytes:
            connection.drop(
                CLOSE_FRAME_TOO_LARGE,
                f"frame too large (limit {settings.ws_max_frame_bytes} bytes)",
            )
            return
        if not guard.allow():
            if guard.flooding:
                connection.drop(CLOSE_FLOODING, "flooding: too many frames")
                return
            connection.offer(
                error_frame(
                    "rate_limited",
                    f"too many frames (limit {settings.ws_frames_per_s:g}/s)",
                    retry_after_s=guard.retry_after_s(),
                )
            )
            continue
        if raw is None:
            connection.offer(error_frame("bad_frame", "send JSON text frames"))
            continue
        try:
            parsed = parse_frame(raw)
        except FrameError as exc:
            extra = {"client_id": exc.client_id} if exc.client_id is not None else {}
            connection.offer(error_frame("bad_frame", exc.detail, **extra))
            continue
        if isinstance(parsed, PingFrame):
            connection.offer(Pong(parsed.t0, received_ms))
            continue
        frame = frame_dict(parsed)
        retry_after_s = dispatch(frame)
        if retry_after_s is not None:
            connection.offer(
                error_frame(
                    "rate_limited",
                    "too many frames waiting: slow down",
                    retry_after_s=retry_after_s,
                    **({"client_id": frame["client_id"]} if "client_id" in frame else {}),
                )
            )


async def _work(
    live: Live,
    connection: Connection,
    user: User,
    inbox: asyncio.Queue[dict[str, Any]],
    pace: WorkPace,
) -> None:
    """Chat, resume and playback commands of one connection, one at a time, in order."""
    while True:
        frame = await inbox.get()
        kind = frame["type"]
        started = time.monotonic()
        try:
            if kind == "chat":
                await _chat(live, connection, user, frame)
            elif kind == "resume":
                await _resume(live, connection, frame)
            else:
                await _command(live, connection, user, frame)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("live frame failed", extra={"type": kind})
            connection.offer(
                error_frame(
                    "internal",
                    f"the server could not handle this {kind} frame",
                    frame=kind,
                    **({"client_id": frame["client_id"]} if "client_id" in frame else {}),
                )
            )
        if kind != "resume":
            pace.note(time.monotonic() - started)


async def _chat(live: Live, connection: Connection, user: User, frame: dict[str, Any]) -> None:
    client_id = frame.get("client_id")
    try:
        data = MessageCreate.model_validate(
            {"text": frame.get("text"), **({"client_id": client_id} if client_id else {})}
        )
    except ValidationError as exc:
        detail = "; ".join(error["msg"] for error in exc.errors())
        connection.offer(error_frame("bad_frame", detail, client_id=client_id))
        return
    try:
        async with session_scope(live.sessionmaker) as session:
            await use_autocommit(session)
            posted = await chat_service.post(session, live.redis, user.id, connection.room_id, data)
    except TooManyRequests as exc:
        connection.offer(
            error_frame(
                "rate_limited", exc.detail, client_id=client_id, retry_after_s=exc.retry_after_s
            )
        )
        return
    except TuneWaveError as exc:
        connection.offer(error_frame(_code(exc), exc.detail, client_id=client_id))
        return
    if not posted.created:
        # A resend: the message went to the room the first time; the sender gets it again.
        connection.offer(encode_frame(MessageFrame.from_view(posted.view)))


async def _resume(live: Live, connection: Connection, frame: dict[str, Any]) -> None:
    """Every message after ``after_seq``, in pages no larger than half the socket's frame
    budget, each sent once the queue has room (so a resume of any size never overflows it),
    then ``resumed``. A failure answers an ``error`` naming the resume, never silence."""
    after_seq = frame.get("after_seq")
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        connection.offer(
            error_frame(
                "bad_frame", "resume needs a non-negative integer after_seq", frame="resume"
            )
        )
        return
    page = max(1, min(RESUME_BATCH, connection.budget.frames // 2))
    connection.hold()
    sent = 0
    cursor = after_seq
    try:
        while True:
            await connection.wait_roomy()
            if connection.closed:
                return
            connection.held_overflow = False
            async with session_scope(live.sessionmaker) as session:
                views = await chat_service.since(
                    session, connection.room_id, after_seq=cursor, limit=page
                )
            for view in views:
                connection.offer(encode_frame(MessageFrame.from_view(view)))
                cursor = view.seq
                sent += 1
            # Live messages held meanwhile were too many and were let go: read on.
            if len(views) < page and not connection.held_overflow:
                break
        connection.last_seq = max(connection.last_seq, cursor)
        connection.offer(
            encode_frame(ResumedFrame(after_seq=after_seq, last_seq=cursor, count=sent))
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("resume failed", extra={"room_id": str(connection.room_id)})
        connection.offer(
            error_frame(
                "resume_failed",
                "the resume stopped: send it again from the last seq you have",
                frame="resume",
                after_seq=after_seq,
                last_seq=cursor,
                count=sent,
            )
        )
        connection.last_seq = max(connection.last_seq, cursor)
    finally:
        connection.release()


async def _command(live: Live, connection: Connection, user: User, frame: dict[str, Any]) -> None:
    kind = frame["type"]
    version = frame.get("version")
    position = frame.get("position_ms")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        connection.offer(error_frame("bad_frame", "version must be an integer"))
        return
    if kind == "seek" and (isinstance(position, bool) or not isinstance(position, int)):
        connection.offer(error_frame("bad_frame", "seek needs an integer position_ms"))
        return
    try:
        async with session_scope(live.sessionmaker) as session:
            await playback_service.command(
                session,
                live.redis,
                live.settings,
                user,
                connection.room_id,
                kind,
                position_ms=position,
                expected_version=version,
            )
    except StaleVersion as exc:
        async with session_scope(live.sessionmaker) as session:
            state = await playback_service.current(session, live.redis, connection.room_id)
        connection.offer(error_frame("stale_version", exc.detail, state=state.wire()))
    except TuneWaveError as exc:
        connection.offer(error_frame(_code(exc), exc.detail))


def _code(exc: TuneWaveError) -> str:
    """The frame's code: the specific one the raise site gave (``owner_only``,
    ``queue_empty``, ``not_a_member``...), else the documented generic one for its status."""
    if exc.code != type(exc).code or exc.status_code not in _GENERIC_CODES:
        return exc.code
    return _GENERIC_CODES[exc.status_code]


_GENERIC_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "bad_frame",
    429: "rate_limited",
}
