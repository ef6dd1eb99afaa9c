"""Crowd scenarios for the live channel, shared by tests/faults/test_crowd.py (small counts)
and bench/crowd.py (the full figures): many real WebSocket clients that do what
docs/realtime.md asks (a ``client_id`` per message, the same id on a retry, ``resume`` on a
gap), recording what they receive and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


@dataclass
class CrowdClient:
    """One socket of the crowd: chat seqs received (in arrival order), delivery latencies,
    resumes it had to send, and how it ended."""

    url: str
    user_id: str = ""
    ws: ClientConnection | None = None
    hello: dict[str, Any] | None = None
    hello_after_s: float | None = None
    seqs: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    resumes: int = 0
    rate_limited: int = 0
    refusals: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    acked: dict[str, int] = field(default_factory=dict)
    close_code: int | None = None
    reconnects: int = 0
    resumed: list[dict[str, Any]] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _hello_seen: asyncio.Event = field(default_factory=asyncio.Event)
    _resumed_seen: asyncio.Event = field(default_factory=asyncio.Event)
    _last_seq: int = 0
    _resuming: bool = False
    retry_at: dict[str, float] = field(default_factory=dict)

    async def open(self, started: float, open_timeout_s: float = 120) -> None:
        self.ws = await connect(
            self.url, open_timeout=open_timeout_s, max_size=None, ping_interval=None
        )
        self._reader = asyncio.create_task(self._read(started))

    async def wait_hello(self, timeout_s: float) -> None:
        await asyncio.wait_for(self._hello_seen.wait(), timeout_s)

    async def _read(self, started: float) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                self._handle(json.loads(raw), started)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self._hello_seen.set()
            self._resumed_seen.set()

    def _handle(self, frame: dict[str, Any], started: float) -> None:
        kind = frame.get("type")
        if kind == "message":
            seq = frame["seq"]
            if seq <= self._last_seq:
                return
            if seq > self._last_seq + 1 and not self._resuming:
                # A gap: ask for what is missing (docs/realtime.md).
                self._resume()
            if not self._resuming or seq == self._last_seq + 1:
                self._accept(frame)
        elif kind == "hello":
            self.hello = frame
            self.user_id = frame["user_id"]
            self.hello_after_s = time.monotonic() - started
            self._last_seq = frame["last_seq"]
            self._hello_seen.set()
        elif kind == "resumed":
            self._resuming = False
            self.resumed.append(frame)
            self._resumed_seen.set()
        elif kind == "error":
            if frame.get("code") == "rate_limited":
                self.rate_limited += 1
                self.refusals.append(frame)
                client_id = frame.get("client_id")
                if client_id is not None:
                    self.retry_at[client_id] = time.monotonic() + float(
                        frame.get("retry_after_s") or 1
                    )
            else:
                self.errors.append(frame)

    def _accept(self, frame: dict[str, Any]) -> None:
        seq = frame["seq"]
        self._last_seq = seq
        self.seqs.append(seq)
        created = datetime.fromisoformat(frame["created_at"]).timestamp() * 1000
        self.latencies_ms.append(time.time() * 1000 - created)
        user = frame.get("user") or {}
        if user.get("id") == self.user_id and frame.get("client_id"):
            self.acked[frame["client_id"]] = seq

    def _resume(self, after_seq: int | None = None) -> None:
        self.resumes += 1
        self._resuming = True
        self._resumed_seen.clear()
        frame = {"type": "resume", "after_seq": self._last_seq if after_seq is None else after_seq}
        if self.ws is not None:
            task = asyncio.create_task(self._send(frame))
            task.add_done_callback(lambda _: None)

    async def resume_from(self, after_seq: int, timeout_s: float) -> dict[str, Any]:
        """Send ``resume`` and wait for its ``resumed``."""
        self._last_seq = after_seq
        self._resume(after_seq)
        await asyncio.wait_for(self._resumed_seen.wait(), timeout_s)
        assert self.resumed, f"closed with {self.close_code} before resumed"
        return self.resumed[-1]

    async def _send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(frame))

    async def chat(self, text: str, client_id: str) -> None:
        await self._send({"text": text, "client_id": client_id})

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 10)


@dataclass
class Storm:
    clients: list[CrowdClient]
    connected: int
    hello_s: list[float]
    elapsed_s: float


async def connect_storm(urls: Sequence[str], timeout_s: float = 120) -> Storm:
    """Open every socket at once; time from the start to each ``hello``."""
    started = time.monotonic()
    clients = [CrowdClient(url) for url in urls]

    async def one(client: CrowdClient) -> None:
        with contextlib.suppress(Exception):
            await client.open(started, timeout_s)
            await client.wait_hello(timeout_s)

    await asyncio.gather(*(one(client) for client in clients))
    hello = [c.hello_after_s for c in clients if c.hello is not None and c.hello_after_s]
    return Storm(clients, len(hello), hello, time.monotonic() - started)


@dataclass
class ChatLoad:
    sent: int
    acked: int
    elapsed_s: float


async def chat_load(
    clients: Sequence[CrowdClient], *, rate_per_user: float, duration_s: float
) -> ChatLoad:
    """Every client sends ``rate_per_user`` messages/s (jittered start) for ``duration_s``,
    retrying a refused message with the same client_id after ``retry_after_s``; then waits
    until each message is acknowledged (seen in the room) or 30 s have passed."""
    started = time.monotonic()
    pending: dict[tuple[int, str], float] = {}
    sent = 0

    async def sender(index: int, client: CrowdClient) -> None:
        nonlocal sent
        await asyncio.sleep(random.random() / rate_per_user)
        number = 0
        while time.monotonic() - started < duration_s:
            client_id = f"m-{index}-{number}-{uuid.uuid4().hex[:6]}"
            pending[(index, client_id)] = time.monotonic()
            await client.chat(f"hello {number} from {index}", client_id)
            sent += 1
            number += 1
            await asyncio.sleep(1 / rate_per_user)

    async def retrier() -> None:
        while True:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            for client in clients:
                for client_id, at in list(client.retry_at.items()):
                    if at <= now and client_id not in client.acked:
                        del client.retry_at[client_id]
                        await client.chat("retry", client_id)

    retrying = asyncio.create_task(retrier())
    await asyncio.gather(*(sender(i, c) for i, c in enumerate(clients)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(client_id in clients[i].acked for i, client_id in pending):
            break
        await asyncio.sleep(0.2)
    retrying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await retrying
    acked = sum(1 for i, client_id in pending if client_id in clients[i].acked)
    return ChatLoad(sent, acked, time.monotonic() - started)


async def settle(clients: Sequence[CrowdClient], last_seq: int, timeout_s: float = 30) -> None:
    """Until every open client has every seq up to ``last_seq`` (or the timeout)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(c._last_seq >= last_seq for c in clients if c.close_code is None):
            return
        await asyncio.sleep(0.1)


def missing(client: CrowdClient, first_seq: int, last_seq: int) -> int:
    return len(set(range(first_seq, last_seq + 1)) - set(client.seqs))
