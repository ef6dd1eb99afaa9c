"""Latency of the genre page and genres to explore, next to GET /users/me in the same run.

    uv run python bench/genres_api.py [--duration 10] [--connections 1]

Needs PostgreSQL + Redis on 127.0.0.1 (the test services); uses `wrk` when it is installed
and otherwise a one-connection Python client (the same client for every row, so the ratios
stay fair). It builds a scratch database `tunewave_bench_genres` the way
bench/recommendations_api.py does (the bundled catalog, the 471 demo listeners, 50 new
listeners with two favourite genres, 200 rooms each playing a catalog track), publishes the
genre graph with the worker's own code (workers.genre_graph) to Redis database 8, starts one
uvicorn process of the API and measures:
- GET /users/me: the baseline (token check + one PostgreSQL read);
- GET /genres/{slug}: the endpoint reading the read cache (after each page's first miss);
- GET /users/me/genres/explore for demo listeners (plays) and new listeners (favourites only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.recommendations_api import database_url, prepare_database  # noqa: E402
from bench.rest import Result, Server, lua_rotating_get, run_wrk, serve  # noqa: E402

BENCH_DB = "tunewave_bench_genres"
BENCH_REDIS = "redis://127.0.0.1:6379/8"
GENRES = 40  # the most played genres, one page each


def build_graph(env: dict[str, str]) -> str:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from workers.genre_graph import build_genre_graph; "
            "print(build_genre_graph.run(reason='bench'))",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"building the genre graph failed:\n{completed.stderr}")
    return completed.stdout.strip()


def popular_slugs(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        slugs = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT g.slug FROM genres g JOIN track_genres tg ON tg.genre_id = g.id "
                    "JOIN listening_events le ON le.track_id = tg.track_id "
                    "GROUP BY g.slug ORDER BY count(*) DESC, g.slug LIMIT :limit"
                ),
                {"limit": GENRES},
            )
        ]
    engine.dispose()
    return slugs


def python_client_run(
    name: str, server: Server, paths: list[str], tokens: list[str], duration_s: int
) -> Result:
    """One connection, requests back to back, rotating paths and tokens (no wrk here)."""
    latencies_ms: list[float] = []
    errors = 0
    cpu_before_ms = server.cpu_ms()
    with httpx.Client(base_url=server.base, timeout=30) as client:
        deadline = time.monotonic() + duration_s
        n = 0
        while time.monotonic() < deadline:
            headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"} if tokens else {}
            started = time.perf_counter()
            response = client.get(paths[n % len(paths)], headers=headers)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            errors += response.status_code != 200
            n += 1
    server_cpu_ms = server.cpu_ms() - cpu_before_ms
    latencies_ms.sort()
    return Result(
        name,
        len(latencies_ms) / duration_s,
        statistics.median(latencies_ms),
        latencies_ms[min(len(latencies_ms) - 1, int(0.99 * len(latencies_ms)))],
        errors,
        requests=len(latencies_ms),
        server_cpu_ms=server_cpu_ms,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None

    print("preparing the database (catalog, demo listeners, rooms)...", file=sys.stderr)
    tokens = prepare_database(BENCH_DB)
    url = database_url(BENCH_DB)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        REDIS_URL=BENCH_REDIS,
        TUNEWAVE_ENV="test",
        TUNEWAVE_LOG_LEVEL="WARNING",
        TUNEWAVE_DATA_DIR=str(ROOT / ".tunewave" / "bench"),
    )
    env.pop("TUNEWAVE_DATABASE_URL", None)
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    print(f"genre graph: {build_graph(env)}", file=sys.stderr)
    pages = [f"/genres/{quote(slug)}" for slug in popular_slugs(url)]
    explore = "/users/me/genres/explore"
    rows: list[tuple[str, list[str], list[str]]] = [
        ("GET /users/me (baseline)", ["/users/me"], tokens["known"]),
        ("GET /genres/{slug} (read cache)", pages, tokens["known"]),
        ("GET /users/me/genres/explore (plays)", [explore], tokens["known"]),
        ("GET /users/me/genres/explore (favourites only)", [explore], tokens["new"]),
    ]
    results: list[Result] = []
    cold_ms: dict[str, float] = {}
    with serve("api.main:app", env) as api:
        for name, paths, row_tokens in rows:
            # Warm-up: every page once (fills the read cache), every listener once.
            cold = []
            with httpx.Client(base_url=api.base, timeout=60) as client:
                for n in range(max(len(paths), len(row_tokens))):
                    headers = (
                        {"Authorization": f"Bearer {row_tokens[n % len(row_tokens)]}"}
                        if row_tokens
                        else {}
                    )
                    started = time.perf_counter()
                    client.get(paths[n % len(paths)], headers=headers).raise_for_status()
                    cold.append((time.perf_counter() - started) * 1000)
            cold_ms[name] = statistics.median(cold)
            if use_wrk:
                lua = (
                    lua_rotating_authenticated(paths, row_tokens)
                    if row_tokens
                    else lua_rotating_get(paths)
                )
                results.append(run_wrk(name, api, paths[0], lua, args))
            else:
                results.append(python_client_run(name, api, paths, row_tokens, args.duration))
    print_table(results, args, "wrk" if use_wrk else "Python httpx client")
    print("first request of each page or listener (cold caches), median ms:")
    for name, value in cold_ms.items():
        print(f"- {name}: {value:.1f}")
    return 0


def print_table(results: list[Result], args: argparse.Namespace, client: str) -> None:
    baseline = next(result for result in results if "(baseline)" in result.name)
    connections = args.connections if client == "wrk" else 1
    print(
        f"\n{client}, {connections} connection(s), {args.duration} s each; one uvicorn "
        "process; ratios against GET /users/me measured in the same run\n"
    )
    print(
        "| endpoint | req/s | p50 ms | p99 ms | p50 vs /users/me | p99 vs /users/me "
        "| server CPU ms/request | CPU vs /users/me | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.name} | {result.requests_per_s:,.0f} | {result.p50_ms:.2f} | "
            f"{result.p99_ms:.2f} | {result.p50_ms / baseline.p50_ms:.2f} | "
            f"{result.p99_ms / baseline.p99_ms:.2f} | {result.cpu_ms_per_request:.2f} | "
            f"{result.cpu_ms_per_request / baseline.cpu_ms_per_request:.2f} | {result.errors} |"
        )


def lua_rotating_authenticated(paths: list[str], tokens: list[str]) -> str:
    path_list = ", ".join(json.dumps(path) for path in paths)
    token_list = ", ".join(json.dumps(token) for token in tokens)
    return f"""
paths = {{{path_list}}}
tokens = {{{token_list}}}
counter = 0
request = function()
  counter = counter + 1
  local headers = {{}}
  headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end
"""


if __name__ == "__main__":
    sys.exit(main())
