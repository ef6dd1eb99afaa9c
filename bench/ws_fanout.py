"""Live-channel fan-out: 2,000 sockets in 20 rooms on one API process, next to a minimal
`websockets` broadcast server (bench/ws_baseline.py) driven by the same clients in the same run.

    uv run python bench/ws_fanout.py [--sockets 2000] [--rooms 20] [--rates 50,100,200,400]
                                     [--step-s 5] [--pad 200]

Needs PostgreSQL and Redis on 127.0.0.1 (the test services); builds the scratch database
`tunewave_bench_live` and uses Redis database 12 (override with TUNEWAVE_LIVE_BENCH_DB /
TUNEWAVE_LIVE_BENCH_REDIS). For the API, messages are published to each room's Redis channel
(the path every REST action and every other API process takes); for the baseline, over one
publisher socket. At each step, messages go out at a steady rate, round robin over the rooms;
every socket of the room should receive each one. Reported per server and step: deliveries/s
received, delivery latency p50/p99 (publish to client receipt), and the server's resident
memory per idle socket (RSS growth from 20 to all sockets connected, divided by the sockets).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from live_support import (
    BENCH_REDIS,
    api_env,
    drop_database,
    flush_redis,
    percentile,
    prepare_database,
    serve,
)
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MARK = '"sent_ms":'


@dataclass
class Step:
    rate: int
    published: int = 0
    received: int = 0
    latencies_ms: list[float] = field(default_factory=list)


@dataclass
class Outcome:
    name: str
    memory_per_socket_kib: float
    steps: list[Step]


class Clients:
    """Sockets of one client process; deliveries are counted per step number."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.step: Step | None = None
        self.steps: dict[int, Step] = {}
        self.ready = 0

    async def read(self, ws: ClientConnection, hello: bool) -> None:
        if not hello:
            self.ready += 1
        with contextlib.suppress(ConnectionClosed):
            await self._read(ws, hello)

    async def _read(self, ws: ClientConnection, hello: bool) -> None:
        async for raw in ws:
            text = raw if isinstance(raw, str) else raw.decode()
            at = time.time() * 1000
            start = text.find(MARK)
            if start < 0:
                if hello and text.startswith('{"type":"hello"'):
                    self.ready += 1
                continue
            end = text.find(",", start)
            step = self.step
            if step is not None:
                step.received += 1
                step.latencies_ms.append(at - float(text[start + len(MARK) : end]))

    async def open(self, urls: list[str], hello: bool, concurrency: int = 64) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(url: str) -> None:
            async with gate:
                ws = await connect(url, open_timeout=60, ping_interval=None, max_queue=None)
            self.sockets.append(ws)
            self.readers.append(asyncio.create_task(self.read(ws, hello)))

        await asyncio.gather(*(one(url) for url in urls))
        deadline = time.monotonic() + 120
        while self.ready < len(self.sockets) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        self.sockets.clear()
        self.readers.clear()


async def client_worker() -> None:
    """A client process: commands on stdin, one JSON line per answer on stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    clients = Clients()
    while line := await reader.readline():
        command = json.loads(line)
        kind = command["cmd"]
        if kind == "open":
            await clients.open(command["urls"], command["hello"])
        elif kind == "step":
            number = command["n"]
            clients.step = (
                None if number is None else clients.steps.setdefault(number, Step(number))
            )
        elif kind == "report":
            report = {n: [s.received, s.latencies_ms] for n, s in clients.steps.items()}
            clients.steps = {}
            print(json.dumps(report), flush=True)
            continue
        elif kind == "close":
            await clients.close()
            print(json.dumps("ok"), flush=True)
            return
        print(json.dumps("ok"), flush=True)


class ClientPool:
    """Client sockets spread over worker processes, so the clients are not the bottleneck."""

    def __init__(self, processes: int) -> None:
        self.count = processes
        self.workers: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for _ in range(self.count):
            self.workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--client-worker",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 30,
                )
            )

    async def _ask(self, worker: asyncio.subprocess.Process, command: dict) -> object:
        assert worker.stdin is not None
        assert worker.stdout is not None
        worker.stdin.write((json.dumps(command) + "\n").encode())
        await worker.stdin.drain()
        return json.loads(await worker.stdout.readline())

    async def open(self, urls: list[str], hello: bool) -> None:
        shares = [urls[n :: self.count] for n in range(self.count)]
        await asyncio.gather(
            *(
                self._ask(worker, {"cmd": "open", "urls": share, "hello": hello})
                for worker, share in zip(self.workers, shares, strict=True)
            )
        )

    async def step(self, number: int | None) -> None:
        await asyncio.gather(*(self._ask(w, {"cmd": "step", "n": number}) for w in self.workers))

    async def report(self) -> dict[int, tuple[int, list[float]]]:
        merged: dict[int, tuple[int, list[float]]] = {}
        for answer in await asyncio.gather(
            *(self._ask(w, {"cmd": "report"}) for w in self.workers)
        ):
            assert isinstance(answer, dict)
            for number, (received, latencies) in answer.items():
                total, all_latencies = merged.get(int(number), (0, []))
                merged[int(number)] = (total + received, all_latencies + latencies)
        return merged

    async def close(self) -> None:
        await asyncio.gather(*(self._ask(w, {"cmd": "close"}) for w in self.workers))
        for worker in self.workers:
            await worker.wait()
        self.workers.clear()


async def measure(
    name: str,
    urls: list[str],
    rooms: list[str],
    process_rss: Callable[[], int],
    publish: Callable[[str, str], Awaitable[None]],
    args: argparse.Namespace,
    hello: bool,
) -> Outcome:
    clients = ClientPool(args.client_processes)
    await clients.start()
    per_room = len(urls) // len(rooms)
    # One socket per room first, so the server's per-process start-up is not counted per socket.
    first_indexes = set(range(0, len(urls), per_room))
    first = [url for n, url in enumerate(urls) if n in first_indexes]
    rest = [url for n, url in enumerate(urls) if n not in first_indexes]
    await clients.open(first, hello)
    await asyncio.sleep(1)
    rss_before = process_rss()
    await clients.open(rest, hello)
    await asyncio.sleep(3)  # presence announcements of the arrivals settle
    rss_after = process_rss()
    memory_kib = (rss_after - rss_before) / len(rest) / 1024
    steps = []
    pad = "x" * args.pad
    for number, rate in enumerate(args.rates):
        step = Step(rate)
        await clients.step(number)
        interval = 1 / rate
        started = time.perf_counter()
        sent = 0
        while (elapsed := time.perf_counter() - started) < args.step_s:
            due = int(elapsed / interval) + 1
            while sent < due:
                room = rooms[sent % len(rooms)]
                sent_ms = time.time() * 1000
                frame = f'{{"type":"bench","sent_ms":{sent_ms:.3f},"n":{sent},"pad":"{pad}"}}'
                await publish(room, frame)
                sent += 1
            await asyncio.sleep(max(0.0, started + sent * interval - time.perf_counter()))
        step.published = sent
        await asyncio.sleep(2)  # let the tail arrive
        await clients.step(None)
        step.received, step.latencies_ms = (await clients.report()).get(number, (0, []))
        steps.append(step)
        expected = sent * per_room
        print(
            f"  {name}: {rate} msg/s -> {step.received}/{expected} deliveries,"
            f" p99 {percentile(step.latencies_ms, 0.99):.1f} ms",
            file=sys.stderr,
        )
    await clients.close()
    return Outcome(name, memory_kib, steps)


async def run_api(args: argparse.Namespace, tokens: list[str], rooms: list[str]) -> Outcome:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--log-level",
        "warning",
    ]
    redis = Redis.from_url(BENCH_REDIS)
    with serve(command, api_env(), "/healthz") as (port, process):
        urls = [
            f"ws://127.0.0.1:{port}/ws/chat/{rooms[n % len(rooms)]}?token={token}"
            for n, token in enumerate(tokens)
        ]
        urls.sort(key=lambda url: rooms.index(url.split("/ws/chat/")[1].split("?")[0]))

        async def publish(room: str, frame: str) -> None:
            await redis.publish(f"tunewave:room-events:{room}", frame)

        outcome = await measure(
            "TuneWave API", urls, rooms, lambda: process.memory_info().rss, publish, args, True
        )
    await redis.aclose()
    return outcome


async def run_baseline(args: argparse.Namespace, rooms: list[str]) -> Outcome:
    command = [sys.executable, "bench/ws_baseline.py", "{port}"]
    with serve(command, api_env(), None) as (port, process):
        urls = [
            f"ws://127.0.0.1:{port}/room/{room}"
            for room in rooms
            for _ in range(args.sockets // len(rooms))
        ]
        publisher = await connect(f"ws://127.0.0.1:{port}/publish", ping_interval=None)

        async def publish(room: str, frame: str) -> None:
            await publisher.send(f"{room}\n{frame}")

        outcome = await measure(
            "websockets baseline",
            urls,
            rooms,
            lambda: process.memory_info().rss,
            publish,
            args,
            False,
        )
        await publisher.close()
    return outcome


def print_table(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    per_room = args.sockets // args.rooms
    print(
        f"\nFan-out: {args.sockets} sockets in {args.rooms} rooms ({per_room} per room), "
        f"{args.step_s:g} s per step, {args.pad}-byte padding; same clients for both servers.\n"
    )
    print(
        f"{'server':<22}{'msg/s':>7}{'target deliv/s':>16}{'deliv/s':>10}{'lost':>7}"
        f"{'p50 ms':>9}{'p99 ms':>9}"
    )
    best: dict[str, float] = {}
    for outcome in outcomes:
        for step in outcome.steps:
            target = step.rate * per_room
            achieved = step.received / args.step_s
            lost = step.published * per_room - step.received
            p50 = percentile(step.latencies_ms, 0.5)
            p99 = percentile(step.latencies_ms, 0.99)
            print(
                f"{outcome.name:<22}{step.rate:>7}{target:>16,}{achieved:>10,.0f}{lost:>7}"
                f"{p50:>9.1f}{p99:>9.1f}"
            )
            best[outcome.name] = max(best.get(outcome.name, 0.0), achieved)
    print()
    for outcome in outcomes:
        print(
            f"{outcome.name:<22} memory per idle socket: {outcome.memory_per_socket_kib:8.1f} KiB"
        )
    if len(outcomes) == 2:
        ours, baseline = outcomes[0].name, outcomes[1].name
        ratio = best[ours] / best[baseline] if best[baseline] else float("nan")
        print(
            f"\nmax deliveries/s: {ours} {best[ours]:,.0f}, "
            f"{baseline} {best[baseline]:,.0f} -> ratio {ratio:.2f}x"
        )
        sustained = [
            step.rate * per_room
            for step in outcomes[0].steps
            if percentile(step.latencies_ms, 0.99) <= 100
            and step.received >= 0.999 * step.published * per_room
        ]
        print(
            f"{ours}: highest rate with every delivery and p99 <= 100 ms: "
            f"{max(sustained, default=0):,} deliveries/s"
        )


async def main_async(args: argparse.Namespace) -> None:
    print("preparing the scratch database ...", file=sys.stderr)
    tokens, rooms = await asyncio.to_thread(prepare_database, args.sockets, args.rooms)
    flush_redis()
    outcomes = [await run_api(args, tokens, rooms)]
    outcomes.append(await run_baseline(args, rooms))
    print_table(outcomes, args)
    flush_redis()
    await asyncio.to_thread(drop_database)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument(
        "--rates", type=lambda s: [int(x) for x in s.split(",")], default=[50, 100, 200, 400]
    )
    parser.add_argument("--step-s", type=float, default=5)
    parser.add_argument("--pad", type=int, default=200)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--client-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(client_worker() if args.client_worker else main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
