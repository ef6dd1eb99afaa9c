"""REST throughput and latency of the main read and write paths, next to a bare FastAPI endpoint.

    uv run python bench/rest.py [--duration 10] [--connections 64]

Needs `wrk` (Debian: `apt-get install wrk`) and PostgreSQL + Redis on 127.0.0.1 (the test
services). It builds a scratch database `tunewave_bench` with the bundled 28k-track catalog,
200 users, 100 public rooms (20 of them with every user as a member and 1,000 messages), starts
one uvicorn process of the API and one of a bare FastAPI app (bench/bare_app.py), and drives
each endpoint with wrk: the same client, connections and duration for every row, after a
short warm-up that is not counted. Prints one table; ratios are against the bare endpoint
measured in the same run. Each row also gives the server process's CPU time per request,
which other load on the machine does not distort as it does requests/s and latency.

The read rows rotate over the 20 busy rooms and 8 popular searches, so after the first
request they are answered by the read cache (docs/performance.md); "catalog search, new
words" sends a different prefix query each time, so nearly every request reaches PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.auth.tokens import issue_access_token  # noqa: E402
from api.core.config import get_settings  # noqa: E402
from bench.live_support import fresh_database, scratch_database_url  # noqa: E402
from tunewave.embedded import free_tcp_port  # noqa: E402

BENCH_DB = "tunewave_bench"
BENCH_REDIS = "redis://127.0.0.1:6379/13"
USERS = 200
ROOMS = 100
BUSY_ROOMS = 20
MESSAGES_PER_BUSY_ROOM = 1000
SEARCH_QUERIES = ["love", "ed sheeran", "remix", "rock", "the weeknd", "dance", "beyon", "summer"]
# Typed-as-you-go prefixes of these, with varying page sizes: almost never the same query twice.
SEARCH_WORDS = [
    "love",
    "night",
    "dance",
    "heart",
    "girl",
    "baby",
    "time",
    "life",
    "dream",
    "light",
    "fire",
    "rain",
    "summer",
    "world",
    "party",
    "music",
    "feel",
    "home",
    "money",
    "gold",
    "blue",
    "wild",
    "young",
    "city",
    "sound",
    "river",
    "queen",
    "star",
    "moon",
    "sun",
    "remix",
    "radio",
    "club",
    "ocean",
    "paradise",
    "heaven",
    "angel",
    "devil",
    "ghost",
    "tears",
    "smile",
    "crazy",
    "sweet",
    "magic",
    "storm",
    "thunder",
    "shadow",
    "winter",
    "spring",
    "diamond",
    "silver",
    "electric",
    "cherry",
    "honey",
    "sugar",
    "velvet",
]
WARMUP_S = 2


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    server_cpu_ms: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_ms / self.requests if self.requests else float("nan")


@dataclass
class Server:
    base: str
    pid: int

    def cpu_ms(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def database_url() -> str:
    return scratch_database_url(BENCH_DB)


def prepare_database() -> dict[str, list[str]]:
    url = fresh_database(BENCH_DB, catalog=True)
    engine = create_engine(url)
    with engine.begin() as connection:
        seeded = seed(connection)
    engine.dispose()
    return seeded


def seed(connection: Connection) -> dict[str, list[str]]:
    settings = get_settings()
    users = [uuid.uuid4() for _ in range(USERS)]
    rooms = [uuid.uuid4() for _ in range(ROOMS)]
    connection.execute(
        text("INSERT INTO users (id, display_name) VALUES (:id, :name)"),
        [{"id": user, "name": f"listener {n}"} for n, user in enumerate(users)],
    )
    genre_ids = [row[0] for row in connection.execute(text("SELECT id FROM genres ORDER BY id"))]
    connection.execute(
        text(
            "INSERT INTO rooms (id, name, owner_id, last_message_seq, last_activity_at) "
            "VALUES (:id, :name, :owner, :seq, now() - make_interval(secs => :age))"
        ),
        [
            {
                "id": room,
                "name": f"Room {n}",
                "owner": users[n % USERS],
                "seq": MESSAGES_PER_BUSY_ROOM if n < BUSY_ROOMS else 0,
                "age": n,
            }
            for n, room in enumerate(rooms)
        ],
    )
    connection.execute(
        text("INSERT INTO room_genres (room_id, genre_id) VALUES (:room, :genre)"),
        [
            {"room": room, "genre": genre_ids[(n + k) % len(genre_ids)]}
            for n, room in enumerate(rooms)
            for k in range(3)
        ],
    )
    members = []
    for n, room in enumerate(rooms):
        in_room = users if n < BUSY_ROOMS else users[n % USERS : n % USERS + 10]
        for user in in_room:
            role = "owner" if user == users[n % USERS] else "member"
            members.append({"room": room, "user": user, "role": role})
    connection.execute(
        text("INSERT INTO room_members (room_id, user_id, role) VALUES (:room, :user, :role)"),
        members,
    )
    connection.execute(
        text(
            "INSERT INTO messages (id, room_id, user_id, seq, text, created_at) "
            "SELECT gen_random_uuid(), r.id, u.ids[1 + (s % :users)], s, 'message ' || s, "
            "now() - make_interval(secs => :count - s) "
            "FROM unnest(CAST(:rooms AS uuid[])) AS r(id), generate_series(1, :count) AS s, "
            "(SELECT CAST(:user_ids AS uuid[]) AS ids) AS u"
        ),
        {
            "rooms": rooms[:BUSY_ROOMS],
            "count": MESSAGES_PER_BUSY_ROOM,
            "users": USERS,
            "user_ids": users,
        },
    )
    tokens = [issue_access_token(settings, user)[0] for user in users]
    return {"rooms": [str(room) for room in rooms[:BUSY_ROOMS]], "tokens": tokens}


@contextlib.contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[Server]:
    port = free_tcp_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"{app} did not start")
        time.sleep(0.2)
    try:
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)


def lua_rotating_get(paths: list[str]) -> str:
    quoted = ", ".join(json.dumps(path) for path in paths)
    return f"""
paths = {{{quoted}}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


def lua_chat_posts(rooms: list[str], tokens: list[str]) -> str:
    room_list = ", ".join(json.dumps(room) for room in rooms)
    token_list = ", ".join(json.dumps(token) for token in tokens)
    return f"""
rooms = {{{room_list}}}
tokens = {{{token_list}}}
counter = 0
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
  counter = math.random(1, 1000000)
end
request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local room = rooms[(math.floor(counter / #tokens) % #rooms) + 1]
  local headers = {{}}
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/chat/" .. room, headers, '{{"text": "bench ' .. counter .. '"}}')
end
"""


def lua_new_searches(words: list[str]) -> str:
    word_list = ", ".join(json.dumps(word) for word in words)
    return f"""
words = {{{word_list}}}
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
end
request = function()
  local word = words[math.random(#words)]
  local query = string.sub(word, 1, math.random(3, #word))
  if math.random() < 0.5 then
    query = words[math.random(#words)] .. "%20" .. query
  end
  local limit = math.random(5, 20)
  return wrk.format("GET", "/spotify-public/search/tracks?query=" .. query .. "&limit=" .. limit)
end
"""


def run_wrk(name: str, server: Server, path: str, lua: str, args: argparse.Namespace) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)

    def wrk(duration_s: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{duration_s}s",
                "--latency",
                "-s",
                script.name,
                f"{server.base}{path}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    wrk(WARMUP_S)
    cpu_before = server.cpu_ms()
    completed = wrk(args.duration)
    server_cpu_ms = server.cpu_ms() - cpu_before
    Path(script.name).unlink()
    if completed.returncode != 0:
        raise SystemExit(f"wrk failed for {name}: {completed.stdout}{completed.stderr}")
    output = completed.stdout
    return Result(
        name=name,
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_latency(output, "50%"),
        p99_ms=_latency(output, "99%"),
        errors=_errors(output),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        server_cpu_ms=server_cpu_ms,
    )


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    assert match, output
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _errors(output: str) -> int:
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    count = int(non_2xx.group(1)) if non_2xx else 0
    if socket:
        count += sum(int(n) for n in socket.groups())
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/rest.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2

    print("preparing the database (catalog import, seed)...", file=sys.stderr)
    seeded = prepare_database()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=BENCH_REDIS,
        TUNEWAVE_ENV="test",
        TUNEWAVE_LOG_LEVEL="WARNING",
    )
    env.pop("TUNEWAVE_DATABASE_URL", None)
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    room = seeded["rooms"][0]
    results: list[Result] = []
    with serve("bench.bare_app:app", env) as bare:
        results.append(run_wrk("bare FastAPI GET /json", bare, "/json", "", args))
    with serve("api.main:app", env) as api:
        reads = [
            ("GET /rooms/", lua_rotating_get(["/rooms/", "/rooms/?limit=20&offset=20"])),
            ("GET /rooms/{id}", lua_rotating_get([f"/rooms/{r}" for r in seeded["rooms"]])),
            (
                "GET /chat/{id}?limit=50",
                lua_rotating_get([f"/chat/{r}?limit=50" for r in seeded["rooms"]]),
            ),
            (
                "catalog search",
                lua_rotating_get(
                    [
                        f"/spotify-public/search/tracks?query={quote(q)}&limit=10"
                        for q in SEARCH_QUERIES
                    ]
                ),
            ),
            ("catalog search, new words", lua_new_searches(SEARCH_WORDS)),
        ]
        for name, lua in reads:
            results.append(run_wrk(name, api, f"/rooms/{room}", lua, args))
        results.append(
            run_wrk(
                "POST /chat/{id}",
                api,
                f"/chat/{room}",
                lua_chat_posts(seeded["rooms"], seeded["tokens"]),
                args,
            )
        )
    print_table(results, args)
    return 0


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    bare = results[0].requests_per_s
    print(
        f"\nwrk, {args.connections} connections, {args.threads} threads, {args.duration} s each;"
        " one uvicorn process per server\n"
    )
    print("| endpoint | req/s | vs bare | p50 ms | p99 ms | server CPU ms/req | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.name} | {result.requests_per_s:,.0f} | "
            f"{result.requests_per_s / bare:.2f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | "
            f"{result.cpu_ms_per_request:.3f} | {result.errors} |"
        )


if __name__ == "__main__":
    sys.exit(main())
