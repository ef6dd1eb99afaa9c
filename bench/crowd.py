"""A crowd in one live room, against real API processes (the targets of docs/realtime.md).

    uv run python bench/crowd.py [--only storm,chat,burst,store,resume] [--storm 500]
                                 [--users 100] [--rate 1] [--duration-s 60]
                                 [--burst-senders 300] [--concurrency 64]
                                 [--resume 10000] [--apis 2]

Needs PostgreSQL and Redis on 127.0.0.1 (the test services); builds the scratch database
`tunewave_bench_live` and uses Redis database 12 (override with TUNEWAVE_LIVE_BENCH_DB /
TUNEWAVE_LIVE_BENCH_REDIS). Scenarios (clients do what docs/realtime.md asks: a client_id
per message, the same id on a retry after `rate_limited`, `resume` on a gap):

- storm: `--storm` sockets connect at once to one room across the API processes; time to
  `hello` p50/p99, how many connected, and whether a late arrival's `online` list is exact.
  Baseline in the same run: the same sockets against the minimal `websockets` server of
  bench/ws_baseline.py (time to the open handshake: no auth, database or presence).
- chat: `--users` users in one room, split over the processes, each sending `--rate`
  messages/s for `--duration-s`: sent, stored, acknowledged, lost (stored messages some
  socket never received), reconnects (closed sockets), resumes, deliveries/s, delivery
  latency p50/p99 (the message's created_at to its arrival).
- burst: `--burst-senders` users each post 10 messages (the chat limit's burst) over REST,
  `--concurrency` requests in flight across the processes on kept-alive connections of a
  minimal HTTP/1.1 client (httpx cost as much CPU per request as the server): stored
  messages/s in one room, the CPU per message of the API processes, PostgreSQL, Redis and
  the clients, and whether a socket listening to the room heard every one, in order,
  without resuming.
- store: the store path alone (no HTTP, no sockets): `--concurrency` database sessions
  storing messages in one room for 10 s, one chat_post_message call each in autocommit,
  against the previous scheme (seq bumped under the room's row lock, insert, commit, in one
  transaction) in the same run.
- resume: `--resume` messages stored while a client was away, then one `resume`: time to
  `resumed`, and that every message arrived once, in order.

Every figure is printed with the machine's load average (os.getloadavg()): on a shared
machine they say what this machine did at that moment, not what the code can do idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid

import psutil
from live_support import (
    ROOT,
    api_env,
    database_url,
    drop_database,
    flush_redis,
    prepare_database,
    serve,
)
from sqlalchemy import create_engine, text

sys.path.insert(0, str(ROOT))

from api.auth.tokens import decode_access_token
from api.core.config import get_settings
from tests.support.crowd import (
    CrowdClient,
    chat_load,
    connect_storm,
    missing,
    percentile,
    settle,
)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f} on {os.cpu_count()} cores"


def report(name: str, **figures: object) -> None:
    shown = ", ".join(f"{key}={value}" for key, value in figures.items())
    print(f"[{name}] {shown} ({load()})", flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms"


def room_state(room_id: str) -> tuple[int, int]:
    engine = create_engine(database_url())
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM messages WHERE room_id = :r"), {"r": room_id}
        ).scalar_one()
        last = connection.execute(
            text("SELECT last_message_seq FROM rooms WHERE id = :r"), {"r": room_id}
        ).scalar_one()
    engine.dispose()
    return int(stored), int(last)


def store_messages(room_id: str, user_token_owner: str, count: int) -> None:
    """``count`` messages stored the way a post stores them (one call each, committed)."""
    engine = create_engine(database_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for n in range(count):
            connection.execute(
                text("SELECT * FROM chat_post_message(:id, :room, :user, :text, NULL)"),
                {"id": uuid.uuid4(), "room": room_id, "user": user_token_owner, "text": f"m{n}"},
            )
    engine.dispose()


def cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def named(*names: str) -> list[psutil.Process]:
    """This machine's processes called ``names`` (PostgreSQL's backends, the Redis server)."""
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in names]


async def storm(
    ports: list[int],
    tokens: list[str],
    room_id: str,
    baseline_port: int,
    servers: list[psutil.Process],
    baseline_server: psutil.Process,
) -> None:
    urls = [
        f"ws://127.0.0.1:{ports[n % len(ports)]}/ws/chat/{room_id}?token={token}"
        for n, token in enumerate(tokens)
    ]
    cpu_before = cpu_s(servers)
    result = await connect_storm(urls, timeout_s=120)
    cpu_used = cpu_s(servers) - cpu_before
    late = await connect_storm(
        [f"ws://127.0.0.1:{ports[0]}/ws/chat/{room_id}?token={tokens[0]}"], timeout_s=60
    )
    hello = late.clients[0].hello or {}
    online = len({user["id"] for user in hello.get("online", [])})
    report(
        "storm api",
        sockets=len(urls),
        connected=result.connected,
        hello_p50=ms(percentile(result.hello_s, 0.5)),
        hello_p99=ms(percentile(result.hello_s, 0.99)),
        hello_max=ms(max(result.hello_s, default=float("nan"))),
        online_seen=f"{online}/{len(set(tokens))}",
        server_cpu_per_socket=ms(cpu_used / max(1, result.connected)),
    )
    # Everybody drops and reconnects at once (a deploy, a network blip): the leaves of the
    # old sockets race the joins of the new ones, and presence must still end exact.
    await late.clients[0].close()
    closing = asyncio.gather(*(c.close() for c in result.clients))
    again = await connect_storm(urls, timeout_s=120)
    await closing
    late = await connect_storm(
        [f"ws://127.0.0.1:{ports[1 % len(ports)]}/ws/chat/{room_id}?token={tokens[0]}"],
        timeout_s=60,
    )
    hello = late.clients[0].hello or {}
    online = len({user["id"] for user in hello.get("online", [])})
    report(
        "storm reconnect (all close and reconnect at once)",
        sockets=len(urls),
        connected=again.connected,
        hello_p50=ms(percentile(again.hello_s, 0.5)),
        hello_p99=ms(percentile(again.hello_s, 0.99)),
        online_seen=f"{online}/{len(set(tokens))}",
    )
    await asyncio.gather(*(c.close() for c in [*again.clients, *late.clients]))
    cpu_before = cpu_s([baseline_server])
    base = await baseline_storm(baseline_port, len(urls))
    cpu_used = cpu_s([baseline_server]) - cpu_before
    report(
        "storm baseline (websockets, no auth/db/presence)",
        sockets=len(urls),
        connected=len(base),
        open_p50=ms(percentile(base, 0.5)),
        open_p99=ms(percentile(base, 0.99)),
        server_cpu_per_socket=ms(cpu_used / max(1, len(base))),
    )


async def baseline_storm(port: int, count: int) -> list[float]:
    from websockets.asyncio.client import connect

    started = time.monotonic()
    opened: list[float] = []
    sockets = []

    async def one(n: int) -> None:
        ws = await connect(f"ws://127.0.0.1:{port}/room/storm", open_timeout=120)
        opened.append(time.monotonic() - started)
        sockets.append(ws)

    await asyncio.gather(*(one(n) for n in range(count)), return_exceptions=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return opened


async def chat(
    ports: list[int], tokens: list[str], room_id: str, rate: float, duration_s: float
) -> None:
    urls = [
        f"ws://127.0.0.1:{ports[n % len(ports)]}/ws/chat/{room_id}?token={token}"
        for n, token in enumerate(tokens)
    ]
    result = await connect_storm(urls, timeout_s=120)
    clients = result.clients
    first_seq = max((c.hello or {}).get("last_seq", 0) for c in clients) + 1
    started = time.monotonic()
    outcome = await chat_load(clients, rate_per_user=rate, duration_s=duration_s)
    _, last_seq = room_state(room_id)
    await settle(clients, last_seq, timeout_s=30)
    elapsed = time.monotonic() - started
    deliveries = sum(len(c.seqs) for c in clients)
    latencies = [value for c in clients for value in c.latencies_ms]
    lost = sum(missing(c, first_seq, last_seq) for c in clients if c.close_code is None)
    closed = sum(1 for c in clients if c.close_code is not None)
    report(
        "chat",
        users=len(clients),
        connected=result.connected,
        rate_per_user=rate,
        duration_s=duration_s,
        sent=outcome.sent,
        acked=outcome.acked,
        stored=last_seq - first_seq + 1,
        stored_per_s=f"{(last_seq - first_seq + 1) / duration_s:.1f}",
        deliveries=deliveries,
        deliveries_per_s=f"{deliveries / elapsed:.0f}",
        lost=lost,
        closed=closed,
        resumes=sum(c.resumes for c in clients),
        rate_limited=sum(c.rate_limited for c in clients),
        errors=sum(len(c.errors) for c in clients),
        p50=f"{percentile(latencies, 0.5):.0f}ms",
        p99=f"{percentile(latencies, 0.99):.0f}ms",
    )
    refusals = [frame.get("detail") for c in clients for frame in c.refusals]
    if refusals:
        print(f"  refusals seen: {sorted(set(refusals))[:5]}", flush=True)
    await asyncio.gather(*(c.close() for c in clients))


class KeepAlive:
    """A minimal HTTP/1.1 client on one kept-alive connection: the burst's load generator.

    httpx spent about 3 ms of this machine's CPU per request, as much as the server's own
    work for a post, on the same 2 cores; this one writes the request and reads the status,
    headers and body, and nothing else."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post_json(self, path: str, body: bytes, token: str) -> int:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._streams
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            writer.write(head.encode() + body)
            status = int((await reader.readline()).split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            raise ConnectionError("the server closed the connection") from None
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def burst(
    ports: list[int],
    tokens: list[str],
    room_id: str,
    concurrency: int,
    servers: list[psutil.Process],
) -> None:
    """Every sender posts 10 messages (the chat limit's burst) over REST, ``concurrency``
    requests in flight across the processes (one kept-alive connection each), with one
    socket listening to check order."""
    listener = await connect_storm(
        [f"ws://127.0.0.1:{ports[0]}/ws/chat/{room_id}?token={tokens[0]}"], timeout_s=60
    )
    _, before = room_state(room_id)
    statuses: dict[int, int] = {}
    idle: list[asyncio.Queue[KeepAlive]] = [asyncio.Queue() for _ in ports]
    for n in range(concurrency):
        idle[n % len(ports)].put_nowait(KeepAlive(ports[n % len(ports)]))

    async def post(n: int, token: str, number: int) -> None:
        body = json.dumps({"text": f"burst {number} from {n}", "client_id": f"b-{n}-{number}"})
        pool = idle[n % len(ports)]
        client = await pool.get()
        try:
            # A connection the server closed is retried with the same client_id, as a client
            # does: the post is idempotent.
            for attempt in range(5):
                try:
                    status = await client.post_json(f"/chat/{room_id}", body.encode(), token)
                    break
                except ConnectionError:
                    if attempt == 4:
                        raise
        finally:
            pool.put_nowait(client)
        statuses[status] = statuses.get(status, 0) + 1

    # Where the machine's CPU went: the API processes, PostgreSQL's backends, Redis, and
    # this process (the clients).
    pg_before = {p.pid: cpu_s([p]) for p in named("postgres")}
    redis = named("redis-server", "valkey-server")
    me = [psutil.Process()]
    started = time.monotonic()
    cpu_before, redis_before, me_before = cpu_s(servers), cpu_s(redis), cpu_s(me)
    await asyncio.gather(
        *(post(n, token, number) for number in range(10) for n, token in enumerate(tokens))
    )
    elapsed = time.monotonic() - started
    cpu_used = cpu_s(servers) - cpu_before
    pg_used = sum(cpu_s([p]) - pg_before.get(p.pid, 0.0) for p in named("postgres"))
    redis_used, me_used = cpu_s(redis) - redis_before, cpu_s(me) - me_before
    for pool in idle:
        while not pool.empty():
            pool.get_nowait().close()
    _, last = room_state(room_id)
    await settle(listener.clients, last, timeout_s=60)
    heard = listener.clients[0].seqs
    stored = max(1, last - before)
    report(
        "burst",
        senders=len(tokens),
        requests=sum(statuses.values()),
        statuses=statuses,
        stored=last - before,
        stored_per_s=f"{(last - before) / elapsed:.0f}",
        wall_s=f"{elapsed:.1f}",
        server_cpu_per_message=f"{cpu_used * 1000 / stored:.1f}ms",
        postgres_cpu_per_message=f"{pg_used * 1000 / stored:.1f}ms",
        redis_cpu_per_message=f"{redis_used * 1000 / stored:.1f}ms",
        client_cpu_per_message=f"{me_used * 1000 / stored:.1f}ms",
        listener_in_order_complete=heard == list(range(before + 1, last + 1)),
        listener_resumes=listener.clients[0].resumes,
    )
    await listener.clients[0].close()


async def store_rate(room_id: str, user_id: str, connections: int, duration_s: float) -> None:
    """The store path alone, without HTTP or sockets: ``connections`` database sessions
    storing messages in one room for ``duration_s``. Today's statement (one call of
    chat_post_message in autocommit) against, in the same run, the previous scheme (in one
    transaction: bump the room's seq under its row lock, insert, commit; the lock held across
    the round trips)."""
    import psycopg

    dsn = database_url().replace("postgresql+psycopg://", "postgresql://")

    async def run(kind: str) -> int:
        stored = 0
        deadline = time.monotonic() + duration_s

        async def worker() -> None:
            nonlocal stored
            async with await psycopg.AsyncConnection.connect(
                dsn, autocommit=kind == "statement"
            ) as connection:
                while time.monotonic() < deadline:
                    if kind == "statement":
                        await connection.execute(
                            "SELECT * FROM chat_post_message(%s, %s, %s, %s, NULL)",
                            (uuid.uuid4(), room_id, user_id, "s"),
                        )
                    else:
                        cursor = await connection.execute(
                            "UPDATE rooms SET last_message_seq = last_message_seq + 1,"
                            " last_activity_at = greatest(last_activity_at, clock_timestamp())"
                            " WHERE id = %s RETURNING last_message_seq",
                            (room_id,),
                        )
                        row = await cursor.fetchone()
                        assert row is not None
                        await connection.execute(
                            "INSERT INTO messages (id, room_id, user_id, seq, text, created_at)"
                            " VALUES (%s, %s, %s, %s, %s, clock_timestamp())",
                            (uuid.uuid4(), room_id, user_id, row[0], "t"),
                        )
                        await connection.commit()
                    stored += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        return stored

    for kind in ("transaction (previous)", "statement"):
        stored = await run(kind.split()[0])
        report(
            f"store {kind}",
            connections=connections,
            stored=stored,
            stored_per_s=f"{stored / duration_s:.0f}",
        )


async def resume(port: int, token: str, user_id: str, room_id: str, count: int) -> None:
    _, before = room_state(room_id)
    store_messages(room_id, user_id, count)
    result = await connect_storm(
        [f"ws://127.0.0.1:{port}/ws/chat/{room_id}?token={token}"], timeout_s=60
    )
    client: CrowdClient = result.clients[0]
    started = time.monotonic()
    resumed = await client.resume_from(before, timeout_s=600)
    took = time.monotonic() - started
    expected = list(range(before + 1, before + count + 1))
    report(
        "resume",
        missed=count,
        count=resumed["count"],
        in_order_once=client.seqs == expected,
        took=f"{took:.1f}s",
        closed=client.close_code,
    )
    await client.close()


async def main(args: argparse.Namespace, tokens: list[str], rooms: list[str]) -> None:
    only = set(args.only.split(","))
    env = api_env(TUNEWAVE_WS_ALLOWED_ORIGINS="http://127.0.0.1")
    print(f"crowd bench: {args.apis} API processes ({load()})", flush=True)
    servers = [
        serve(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--port",
                "{port}",
                "--log-level",
                "warning",
            ],
            env,
            "/healthz",
        )
        for _ in range(args.apis)
    ]
    baseline = serve([sys.executable, "bench/ws_baseline.py", "{port}"], dict(os.environ), None)
    started = [server.__enter__() for server in servers]
    base_port, base_process = baseline.__enter__()
    ports = [port for port, _ in started]
    processes = [process for _, process in started]
    owner_id = str(decode_access_token(get_settings(), tokens[0]))
    try:
        # Everyone is a member of every room (prepare_database spreads them round robin).
        join_everyone(rooms)
        if "storm" in only:
            await storm(
                ports, tokens[1 : args.storm + 1], rooms[0], base_port, processes, base_process
            )
        if "chat" in only:
            await chat(ports, tokens[1 : args.users + 1], rooms[1], args.rate, args.duration_s)
        if "burst" in only:
            await burst(
                ports, tokens[1 : args.burst_senders + 1], rooms[2], args.concurrency, processes
            )
        if "store" in only:
            await store_rate(rooms[2], owner_id, args.concurrency, 10.0)
        if "resume" in only:
            await resume(ports[0], tokens[0], owner_id, rooms[3], args.resume)
    finally:
        baseline.__exit__(None, None, None)
        for server in servers:
            server.__exit__(None, None, None)
        drop_database()
        flush_redis()


def join_everyone(rooms: list[str]) -> None:
    engine = create_engine(database_url())
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO room_members (room_id, user_id, role) "
                "SELECT r.id, u.id, 'member' FROM rooms r CROSS JOIN users u "
                "ON CONFLICT DO NOTHING"
            )
        )
    engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="storm,chat,burst,store,resume")
    parser.add_argument("--storm", type=int, default=500)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--burst-senders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--resume", type=int, default=10_000)
    parser.add_argument("--apis", type=int, default=2)
    arguments = parser.parse_args()
    # Migrations run their own event loop: before ours.
    tokens, rooms = prepare_database(
        max(arguments.storm, arguments.users, arguments.burst_senders) + 1, 4
    )
    flush_redis()
    asyncio.run(main(arguments, tokens, rooms))
