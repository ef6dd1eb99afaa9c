"""The room page with a 500-entry queue and 1,000 chat messages, in a real browser.

    uv run python bench/web_room.py

Needs PostgreSQL on 127.0.0.1, Redis, Debian's chromium and a built web app (`make
web-build`). Builds a scratch database `tunewave_bench_web` with one room holding 500 queued
tracks and 1,000 messages, starts one uvicorn process of the API, and runs
web/e2e/bench-room.mjs, which opens the room page headless, then scrolls the chat up through
every message (loading older pages as a listener would) and the queue down to its end. It
prints how long the first render took, how many list rows are in the DOM (the lists are
virtualised, so a screenful rather than 1,500), the long tasks (> 50 ms) the main thread
had, and frame times while scrolling against the 16.7 ms budget of a 60 Hz display.
Redis: TUNEWAVE_TEST_REDIS_URL if set (the database is flushed), else database 12.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.auth.tokens import issue_access_token  # noqa: E402
from api.core.config import get_settings  # noqa: E402
from bench.live_support import fresh_database, scratch_database_url  # noqa: E402
from tunewave.embedded import free_tcp_port  # noqa: E402

BENCH_DB = "tunewave_bench_web"
BENCH_REDIS = os.environ.get("TUNEWAVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
QUEUE_ENTRIES = 500
MESSAGES = 1000


def database_url() -> str:
    return scratch_database_url(BENCH_DB)


def prepare() -> tuple[str, str]:
    url = fresh_database(BENCH_DB)
    owner, other, room = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (id, display_name) VALUES (:a, 'owner'), (:b, 'guest')"),
            {"a": owner, "b": other},
        )
        connection.execute(
            text(
                "INSERT INTO rooms (id, name, owner_id, last_message_seq) "
                "VALUES (:id, 'Busy room', :owner, :seq)"
            ),
            {"id": room, "owner": owner, "seq": MESSAGES},
        )
        connection.execute(
            text(
                "INSERT INTO room_members (room_id, user_id, role) "
                "VALUES (:r, :a, 'owner'), (:r, :b, 'member')"
            ),
            {"r": room, "a": owner, "b": other},
        )
        connection.execute(
            text(
                "INSERT INTO tracks (id, spotify_id, title, artist_names, duration_ms) "
                "SELECT gen_random_uuid(), lpad(s::text, 22, 'b'), 'Track number ' || s, "
                "'Bench Artist', 180000 + s FROM generate_series(1, :n) AS s"
            ),
            {"n": QUEUE_ENTRIES},
        )
        connection.execute(
            text(
                "INSERT INTO queue_entries (id, room_id, track_id, added_by, position, status) "
                "SELECT gen_random_uuid(), :room, t.id, :owner, "
                "row_number() OVER (ORDER BY t.spotify_id) * 1000, 'queued' FROM tracks t"
            ),
            {"room": room, "owner": owner},
        )
        connection.execute(
            text(
                "INSERT INTO messages (id, room_id, user_id, seq, text, created_at) "
                "SELECT gen_random_uuid(), :room, CASE WHEN s % 3 = 0 THEN :a ELSE :b END, s, "
                "'message ' || s || repeat(' lorem ipsum', s % 7), "
                "now() - make_interval(secs => :n - s) FROM generate_series(1, :n) AS s"
            ),
            {"room": room, "a": owner, "b": other, "n": MESSAGES},
        )
    engine.dispose()
    token, _ = issue_access_token(get_settings(), owner)
    return str(room), token


def main() -> int:
    if not (ROOT / "web" / "dist" / "index.html").exists():
        raise SystemExit("build the web app first: make web-build")
    room, token = prepare()
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=BENCH_REDIS,
        TUNEWAVE_ENV="test",
        TUNEWAVE_LOG_JSON="false",
        TUNEWAVE_LOG_LEVEL="WARNING",
    )
    port = free_tcp_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the API did not start")
            time.sleep(0.2)
        return subprocess.run(
            ["node", "e2e/bench-room.mjs"],
            cwd=ROOT / "web",
            env={**os.environ, "BENCH_URL": base, "BENCH_ROOM": room, "BENCH_TOKEN": token},
            check=False,
        ).returncode
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    raise SystemExit(main())
