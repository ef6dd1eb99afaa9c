"""Shared by the benchmarks: a scratch database (dropped, created and prepared through
tunewave/bootstrap.py), API processes, users and rooms."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.auth.tokens import issue_access_token  # noqa: E402
from api.core.config import get_settings  # noqa: E402
from tunewave.bootstrap import import_catalog, migrate  # noqa: E402
from tunewave.embedded import free_tcp_port  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Its own database and Redis index, so it runs next to the test suites.
BENCH_DB = os.environ.get("TUNEWAVE_LIVE_BENCH_DB", "tunewave_bench_live")
BENCH_REDIS = os.environ.get("TUNEWAVE_LIVE_BENCH_REDIS", "redis://127.0.0.1:6379/12")


def scratch_database_url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def fresh_database(name: str, *, catalog: bool = False) -> str:
    """Drop and create the scratch database ``name``, migrate it and, with ``catalog``, load
    the bundled catalog; return its URL."""
    drop_scratch_database(name)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = scratch_database_url(name)
    migrate(url)
    if catalog:
        import_catalog(url)
    return url


def drop_scratch_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_url() -> str:
    return scratch_database_url(BENCH_DB)


def prepare_database(users: int, rooms: int) -> tuple[list[str], list[str]]:
    """A fresh migrated database with ``users`` users and ``rooms`` public rooms, every user
    a member of one room (round robin). Returns (access tokens, room ids)."""
    url = fresh_database(BENCH_DB)
    user_ids = [uuid.uuid4() for _ in range(users)]
    room_ids = [uuid.uuid4() for _ in range(rooms)]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (id, display_name) VALUES (:id, :name)"),
            [{"id": u, "name": f"listener {n}"} for n, u in enumerate(user_ids)],
        )
        connection.execute(
            text("INSERT INTO rooms (id, name, owner_id) VALUES (:id, :name, :owner)"),
            [
                {"id": r, "name": f"bench room {n}", "owner": user_ids[n]}
                for n, r in enumerate(room_ids)
            ],
        )
        connection.execute(
            text("INSERT INTO room_members (room_id, user_id, role) VALUES (:room, :user, :role)"),
            [
                {
                    "room": room_ids[n % rooms],
                    "user": u,
                    "role": "owner" if n < rooms else "member",
                }
                for n, u in enumerate(user_ids)
            ],
        )
    engine.dispose()
    settings = get_settings()
    tokens = [issue_access_token(settings, u)[0] for u in user_ids]
    return tokens, [str(r) for r in room_ids]


def drop_database() -> None:
    drop_scratch_database(BENCH_DB)


def api_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("TUNEWAVE_DATABASE_URL", "TUNEWAVE_REDIS_URL"):
        env.pop(key, None)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=BENCH_REDIS,
        TUNEWAVE_ENV="test",
        TUNEWAVE_LOG_JSON="false",
        TUNEWAVE_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextlib.contextmanager
def serve(
    command: list[str], env: dict[str, str], ready_path: str | None
) -> Iterator[tuple[int, psutil.Process]]:
    """Run a server on a free port (``{port}`` in ``command``); yield (port, process)."""
    port = free_tcp_port()
    args = [part.replace("{port}", str(port)) for part in command]
    log = Path(tempfile.gettempdir()) / f"tunewave-bench-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError, OSError):
                if ready_path is None:
                    import socket

                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                elif (
                    httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code == 200
                ):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield port, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def flush_redis() -> None:
    redis.Redis.from_url(BENCH_REDIS).flushdb()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
