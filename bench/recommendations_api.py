"""Latency of the recommendation endpoints served from Redis, next to two baselines.

    uv run python bench/recommendations_api.py [--duration 10] [--connections 4]

Needs `wrk` and PostgreSQL + Redis on 127.0.0.1 (the test services). It builds a scratch
database `tunewave_bench_reco` with the bundled catalog, the 471 demo listeners and 200
public rooms (queues of catalog tracks, demo listeners as members), trains and publishes a
model to Redis database 9 with the real pipeline, then starts one uvicorn process of the API
and one of a bare FastAPI app and drives each endpoint with wrk over one connection by
default (a latency measurement, not a saturation one). Rows:
- bare FastAPI GET /json: the floor of the HTTP stack;
- GET /users/me: our own smallest authenticated endpoint (token check + one PostgreSQL read),
  the baseline a Redis-served endpoint is compared to;
- GET /recommendations/{tracks,users,rooms} for listeners the model knows (served from the
  published version), and tracks for new listeners (the genre fallback, cached in Redis).
Ratios are against /users/me measured in the same run. The server's CPU time per request
(from /proc, as bench/rest.py measures it) is given too: on a shared machine it is steadier
than wall-clock percentiles. Target: p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
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
from bench.rest import Result, run_wrk, serve  # noqa: E402
from tunewave.bootstrap import seed_demo_listeners  # noqa: E402

BENCH_DB = "tunewave_bench_reco"
BENCH_REDIS = "redis://127.0.0.1:6379/9"
ROOMS = 200
NEW_USERS = 50


def database_url(name: str = BENCH_DB) -> str:
    return scratch_database_url(name)


def prepare_database(name: str = BENCH_DB) -> dict[str, list[str]]:
    """A scratch database with the catalog, the demo listeners, new listeners with two
    favourite genres and ROOMS rooms; the tokens of known and new listeners."""
    url = fresh_database(name, catalog=True)
    seed_demo_listeners(url)
    engine = create_engine(url)
    rng = random.Random(0)
    with engine.begin() as connection:
        demo = [str(row[0]) for row in connection.execute(text("SELECT id FROM users"))]
        tracks = [str(row[0]) for row in connection.execute(text("SELECT id FROM tracks"))]
        genres = [row[0] for row in connection.execute(text("SELECT id FROM genres"))]
        new_users = [str(uuid.uuid4()) for _ in range(NEW_USERS)]
        connection.execute(
            text("INSERT INTO users (id, display_name) VALUES (:id, :name)"),
            [{"id": user, "name": f"new listener {n}"} for n, user in enumerate(new_users)],
        )
        connection.execute(
            text("INSERT INTO user_genres (user_id, genre_id) VALUES (:user, :genre)"),
            [
                {"user": user, "genre": genre}
                for user in new_users
                for genre in rng.sample(genres, 2)
            ],
        )
        rooms = [str(uuid.uuid4()) for _ in range(ROOMS)]
        connection.execute(
            text(
                "INSERT INTO rooms (id, name, owner_id, last_activity_at) "
                "VALUES (:id, :name, :owner, now() - make_interval(secs => :age))"
            ),
            [
                {"id": room, "name": f"Room {n}", "owner": demo[n % len(demo)], "age": n}
                for n, room in enumerate(rooms)
            ],
        )
        connection.execute(
            text("INSERT INTO room_genres (room_id, genre_id) VALUES (:room, :genre)"),
            [{"room": room, "genre": rng.choice(genres)} for room in rooms],
        )
        connection.execute(
            text(
                "INSERT INTO room_members (room_id, user_id) VALUES (:room, :user) "
                "ON CONFLICT DO NOTHING"
            ),
            [
                {"room": room, "user": user}
                for n, room in enumerate(rooms)
                for user in {demo[n % len(demo)], *rng.sample(demo, rng.randint(1, 12))}
            ],
        )
        connection.execute(
            text(
                "INSERT INTO queue_entries (id, room_id, track_id, position, status) "
                "VALUES (gen_random_uuid(), :room, :track, :position, :status)"
            ),
            [
                {
                    "room": room,
                    "track": track,
                    "position": (k + 1) * 1024,
                    "status": "playing" if k == 0 else "queued",
                }
                for room in rooms
                for k, track in enumerate(rng.sample(tracks, 15))
            ],
        )
    engine.dispose()
    settings = get_settings()
    return {
        "known": [issue_access_token(settings, uuid.UUID(u))[0] for u in demo[:200]],
        "new": [issue_access_token(settings, uuid.UUID(u))[0] for u in new_users],
    }


def train(env: dict[str, str]) -> str:
    import subprocess

    completed = subprocess.run(
        [sys.executable, "-m", "tunewave.cli", "train"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"training failed:\n{completed.stdout}{completed.stderr}")
    return completed.stdout


def lua_authenticated_get(path: str, tokens: list[str]) -> str:
    token_list = ", ".join(json.dumps(token) for token in tokens)
    return f"""
tokens = {{{token_list}}}
counter = 0
request = function()
  counter = counter + 1
  local headers = {{}}
  headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  return wrk.format("GET", "{path}", headers)
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/recommendations_api.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2

    print("preparing the database (catalog, demo listeners, rooms)...", file=sys.stderr)
    tokens = prepare_database()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=BENCH_REDIS,
        TUNEWAVE_ENV="test",
        TUNEWAVE_LOG_LEVEL="WARNING",
        TUNEWAVE_DATA_DIR=str(ROOT / ".tunewave" / "bench"),
    )
    env.pop("TUNEWAVE_DATABASE_URL", None)
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    print("training and publishing a model...", file=sys.stderr)
    print(train(env), file=sys.stderr)
    results: list[Result] = []
    cold_ms: dict[str, float] = {}
    with serve("bench.bare_app:app", env) as bare:
        results.append(run_wrk("bare FastAPI GET /json", bare, "/json", "", args))
    with serve("api.main:app", env) as api:
        rows = [
            ("GET /users/me (baseline)", "/users/me", tokens["known"]),
            ("GET /recommendations/tracks (model)", "/recommendations/tracks", tokens["known"]),
            ("GET /recommendations/users (model)", "/recommendations/users", tokens["known"]),
            ("GET /recommendations/rooms (model)", "/recommendations/rooms", tokens["known"]),
            ("GET /recommendations/tracks (new user)", "/recommendations/tracks", tokens["new"]),
        ]
        for name, path, row_tokens in rows:
            # Steady state: one request per listener first fills the per-process scorer and
            # the per-minute Redis caches (a listener's first request after a minute idle
            # pays the cold path; the table's note gives its cost).
            cold = []
            with httpx.Client(base_url=api.base, timeout=30) as client:
                for token in row_tokens:
                    started = time.perf_counter()
                    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
                    cold.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
            cold_ms[name] = statistics.median(cold[1:])
            results.append(run_wrk(name, api, path, lua_authenticated_get(path, row_tokens), args))
    print_table(results, args)
    print("\nfirst request of each listener (cold caches), median ms:")
    for name, value in cold_ms.items():
        print(f"- {name}: {value:.1f}")
    return 0


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    baseline = results[1]
    print(
        f"\nwrk, {args.connections} connections, {args.threads} thread(s), {args.duration} s "
        "each; one uvicorn process per server; ratios against GET /users/me\n"
    )
    print(
        "| endpoint | req/s | p50 ms | p99 ms | p99 vs /users/me "
        "| server CPU ms/request | CPU vs /users/me | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.name} | {result.requests_per_s:,.0f} | {result.p50_ms:.2f} | "
            f"{result.p99_ms:.2f} | {result.p99_ms / baseline.p99_ms:.2f} | "
            f"{result.cpu_ms_per_request:.2f} | "
            f"{result.cpu_ms_per_request / baseline.cpu_ms_per_request:.2f} | {result.errors} |"
        )


if __name__ == "__main__":
    sys.exit(main())
