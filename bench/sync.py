"""Clock sync and playback agreement: 50 simulated listeners against a real API process.

    uv run python bench/sync.py [--listeners 50] [--seconds 10] [--seed 7]

Needs PostgreSQL and Redis on 127.0.0.1 (builds the scratch database `tunewave_bench_live`,
uses Redis database 12). One API process plays a long track in a room; each listener has its
own clock, off the real one by up to +-5 s, and talks to the server over the room's
WebSocket through a simulated network: every ping waits its uplink delay before it is sent and
every pong is stamped as received after its downlink delay. One-way delays are a per-listener
base (10-50 ms) plus independent jitter per packet and direction (0-50 ms), so round trips
span 20-200 ms and no two directions of an exchange take the same time.

Each listener sends 8 pings on connecting, then one every 500 ms, and keeps its estimate
with the client estimator (api/realtime/clock_sync.py, the twin of web/src/sync/). At the
end, all listeners compute the playback position at the same real instant from their own
clock, their offset estimate and the state's started_at_ms. The truth is known (the
simulated offsets), so the table reports the clock-offset error p50/p95/max and how far apart
the listeners' positions are. A fixed, systematic path asymmetry is invisible to any two-way
time protocol (NTP included); it is left out and would add (up - down) / 2 to the error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
import uuid

import httpx

os.environ.setdefault("TUNEWAVE_LIVE_BENCH_DB", "tunewave_bench_sync")
from live_support import api_env, drop_database, flush_redis, percentile, prepare_database, serve
from websockets.asyncio.client import ClientConnection, connect

from api.realtime.clock_sync import ClockSync

BURST = 8
BURST_GAP_S = 0.05
PING_EVERY_S = 0.5


class Listener:
    def __init__(self, number: int, rng: random.Random) -> None:
        self.number = number
        self.true_offset_ms = rng.uniform(-5000, 5000)  # client clock - real clock
        self.base_ms = rng.uniform(10, 50)
        self.rng = random.Random(rng.random())
        self.sync = ClockSync(now=self.clock)
        self.round_trips: list[float] = []
        self.pending: dict[float, float] = {}

    def clock(self) -> float:
        return time.time() * 1000 + self.true_offset_ms

    def one_way_ms(self) -> float:
        return self.base_ms + self.rng.uniform(0, 50)

    async def ping(self, ws: ClientConnection) -> None:
        frame = self.sync.make_ping()
        await asyncio.sleep(self.one_way_ms() / 1000)  # uplink
        await ws.send(json.dumps(frame))

    async def read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") != "pong":
                continue
            # Stamped as if it arrived after its downlink delay.
            t3 = self.clock() + self.one_way_ms()
            sample = self.sync.add_pong(frame, t3)
            if sample is not None:
                self.round_trips.append(sample.round_trip_ms)

    async def run(self, url: str, seconds: float) -> None:
        async with connect(url, open_timeout=30, ping_interval=None) as ws:
            reader = asyncio.create_task(self.read(ws))
            for _ in range(BURST):
                await self.ping(ws)
                await asyncio.sleep(BURST_GAP_S)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                await asyncio.sleep(PING_EVERY_S)
                await self.ping(ws)
            await asyncio.sleep(0.5)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    def offset_error_ms(self) -> float:
        estimate = self.sync.estimate()
        assert estimate is not None
        # The true server - client offset is minus the simulated client offset.
        return estimate.offset_ms - -self.true_offset_ms


def start_playback(base: str, owner_token: str, room_id: str) -> dict:
    headers = {"Authorization": f"Bearer {owner_token}"}
    spotify_id = uuid.uuid4().hex[:22]
    track = {
        "spotify_id": spotify_id,
        "title": "Sync bench",
        "artists": ["Bench"],
        "duration_ms": 3_600_000,
    }
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        client.post("/track/", json=track).raise_for_status()
        client.post(f"/rooms/{room_id}/queue", json={"spotify_id": spotify_id}).raise_for_status()
        response = client.post(f"/rooms/{room_id}/playback", json={"action": "play"})
        response.raise_for_status()
        return response.json()


async def main_async(args: argparse.Namespace) -> None:
    print("preparing the scratch database ...", file=sys.stderr)
    tokens, rooms = await asyncio.to_thread(prepare_database, args.listeners, 1)
    flush_redis()
    room_id = rooms[0]
    command = [
        sys.executable, "-m", "uvicorn", "api.main:app",
        "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning",
    ]  # fmt: skip
    rng = random.Random(args.seed)
    with serve(command, api_env(), "/healthz") as (port, _):
        base = f"http://127.0.0.1:{port}"
        state = await asyncio.to_thread(start_playback, base, tokens[0], room_id)
        listeners = [Listener(n, rng) for n in range(args.listeners)]
        urls = [f"ws://127.0.0.1:{port}/ws/chat/{room_id}?token={token}" for token in tokens]
        await asyncio.gather(
            *(
                listener.run(url, args.seconds)
                for listener, url in zip(listeners, urls, strict=True)
            )
        )
    flush_redis()
    await asyncio.to_thread(drop_database)

    errors = [abs(listener.offset_error_ms()) for listener in listeners]
    # Every listener computes the position at the same real instant, from its own clock.
    instant_clocks = [listener.clock() for listener in listeners]
    positions = [
        clock + listener.sync.estimate().offset_ms - state["started_at_ms"]  # type: ignore[union-attr]
        for clock, listener in zip(instant_clocks, listeners, strict=True)
    ]
    true_position = time.time() * 1000 - state["started_at_ms"]
    deviations = [abs(position - true_position) for position in positions]
    round_trips = [rtt for listener in listeners for rtt in listener.round_trips]
    uncertainties = [listener.sync.estimate().uncertainty_ms for listener in listeners]  # type: ignore[union-attr]
    samples = statistics.mean(len(listener.round_trips) for listener in listeners)

    print(
        f"\nClock sync: {args.listeners} listeners, clock offsets within +-5 s, round trips "
        f"{min(round_trips):.0f}-{max(round_trips):.0f} ms "
        f"(median {statistics.median(round_trips):.0f}),"
        f" {samples:.0f} pongs each over {args.seconds:g} s, seed {args.seed}\n"
    )
    print(f"{'measure':<44}{'p50':>9}{'p95':>9}{'max':>9}")
    rows = [
        ("clock-offset error |estimate - truth| (ms)", errors),
        ("reported uncertainty (ms)", uncertainties),
        ("position vs true position (ms)", deviations),
    ]
    for name, values in rows:
        print(
            f"{name:<44}{percentile(values, 0.5):>9.1f}{percentile(values, 0.95):>9.1f}"
            f"{max(values):>9.1f}"
        )
    spread = max(positions) - min(positions)
    print(f"\nposition disagreement between listeners (max - min): {spread:.1f} ms")
    within = sum(error <= unc for error, unc in zip(errors, uncertainties, strict=True))
    print(f"errors within the reported uncertainty: {within}/{len(errors)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
