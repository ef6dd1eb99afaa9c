"""Real API processes (uvicorn) on a committed scratch database, and WebSocket clients for them.

The in-process tests roll every test back; sockets served by other processes can only see
committed rows, so the live tests use their own database (the suite's name + ``_live``),
migrated once, and create fresh users and rooms in every test.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from api.core.config import PROJECT_ROOT, Settings
from api.models import User
from tests.factories import auth_headers, create_track, create_user
from tunewave.embedded import free_tcp_port

_BARRIERS = itertools.count()


@dataclass
class ApiProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"API process exited with {self.process.returncode}:\n{self.log()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"API process did not start:\n{self.log()}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_api(env: Mapping[str, str], log_path: Path) -> ApiProcess:
    api = spawn_api(env, log_path)
    api.wait_ready()
    return api


def spawn_api(env: Mapping[str, str], log_path: Path, log_level: str = "warning") -> ApiProcess:
    """Start an API process without waiting for it (start several, then wait for each)."""
    port = free_tcp_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                log_level,
            ],
            env=dict(env),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return ApiProcess(process, port, log_path)


@dataclass
class Person:
    user: User
    headers: dict[str, str]
    token: str


class LiveData:
    """Rows committed to the live database, and REST calls to a live process."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.maker = async_sessionmaker(engine, expire_on_commit=False)
        self.settings = settings

    async def person(self, name: str) -> Person:
        async with self.maker() as session:
            user = await create_user(session, display_name=name)
            await session.commit()
        headers = auth_headers(self.settings, user)
        return Person(user, headers, headers["Authorization"].removeprefix("Bearer "))

    async def track(self, duration_ms: int, title: str | None = None) -> str:
        async with self.maker() as session:
            track = await create_track(session, duration_ms=duration_ms, title=title)
            await session.commit()
        return track.spotify_id

    def session(self) -> AsyncSession:
        return self.maker()


async def api_call(
    api: ApiProcess, method: str, path: str, who: Person | None = None, **kwargs: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
        return await client.request(method, path, headers=who.headers if who else None, **kwargs)


async def make_room(api: ApiProcess, owner: Person, **fields: Any) -> str:
    name = fields.pop("name", f"live {uuid.uuid4().hex[:10]}")
    response = await api_call(api, "POST", "/rooms/", owner, json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def join_room(api: ApiProcess, room_id: str, people: Iterable[Person]) -> None:
    """Each of ``people`` joins the (public) room over REST, as members must before a socket."""
    for person in people:
        joined = await api_call(api, "POST", f"/rooms/{room_id}/join", person)
        assert joined.status_code in (200, 201), joined.text


def presence_changes(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames a client acts on for ``frame``: a ``presence`` batch stands for its
    ``joined``/``left`` events, in order; any other frame for itself."""
    return list(frame["events"]) if frame.get("type") == "presence" else [frame]


@dataclass
class LiveClient:
    """A real WebSocket client that records every frame with its arrival time."""

    ws: ClientConnection
    # What arrived, a batch of presence changes recorded as its changes (what a client acts
    # on); ``received`` holds the frames exactly as they came.
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    close_reason: str | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.received.append(frame)
                arrived = time.monotonic()
                self.frames.extend((arrived, one) for one in presence_changes(frame))
                self._arrived.set()
        except Exception:  # noqa: S110 - the close code below says what happened
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason
            self._arrived.set()

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [frame for _, frame in self.frames if frame.get("type") == kind]

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float = 5
    ) -> tuple[float, dict[str, Any]]:
        """The first recorded frame matching ``predicate`` (waiting for it), with its time."""
        deadline = time.monotonic() + timeout_s
        while True:
            for arrived, frame in self.frames:
                if predicate(frame):
                    return arrived, frame
            if self._reader is not None and self._reader.done():
                raise AssertionError(
                    f"socket closed ({self.close_code} {self.close_reason}) while waiting; "
                    f"frames: {[f for _, f in self.frames][-10:]}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out; frames so far: {[f for _, f in self.frames][-10:]}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5) -> None:
        """Until ``condition()`` holds, checked as each frame arrives."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out; frames so far: {[f for _, f in self.frames][-10:]}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.1))

    async def barrier(self, timeout_s: float = 5) -> None:
        """Every frame the server queued for this socket before it took this barrier has
        arrived: a ``resume`` from beyond the last seq goes through the connection's worker
        after every frame sent before it (the reader answers in order too), and its
        ``resumed`` comes back after their replies."""
        marker = 2**62 + next(_BARRIERS)
        await self.send({"type": "resume", "after_seq": marker})
        await self.wait_type("resumed", timeout_s, after_seq=marker)

    async def wait_type(self, kind: str, timeout_s: float = 5, **fields: Any) -> dict[str, Any]:
        _, frame = await self.wait_for(
            lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items()),
            timeout_s,
        )
        return frame

    async def wait_closed(self, timeout_s: float = 5) -> tuple[int | None, str | None]:
        assert self._reader is not None
        await asyncio.wait_for(asyncio.shield(self._reader), timeout_s)
        return self.close_code, self.close_reason

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)


def channel_url(api: ApiProcess, room_id: str, token: str | None) -> str:
    query = urlencode({"token": token}) if token is not None else ""
    return f"{api.ws_url}/ws/chat/{room_id}" + (f"?{query}" if query else "")


@contextlib.asynccontextmanager
async def live_client(
    api: ApiProcess,
    room_id: str,
    token: str | None,
    *,
    origin: str | None = None,
    wait_hello: bool = True,
    **options: Any,
) -> AsyncIterator[LiveClient]:
    headers = {"Origin": origin} if origin else None
    ws = await connect(
        channel_url(api, room_id, token), additional_headers=headers, open_timeout=10, **options
    )
    client = LiveClient(ws)
    client.start()
    try:
        if wait_hello:
            await client.wait_type("hello")
        yield client
    finally:
        await client.close()


async def refusal(
    api: ApiProcess, room_id: str, token: str | None, origin: str | None = None
) -> tuple[int | None, str | None, list[dict[str, Any]]]:
    """Connect and expect the server to close at once: (code, reason, frames received)."""
    async with live_client(api, room_id, token, origin=origin, wait_hello=False) as client:
        code, reason = await client.wait_closed()
        return code, reason, [frame for _, frame in client.frames]
