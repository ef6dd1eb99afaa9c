"""Reads shared by the callers that asked for them before they started.

A storm of sockets arriving in one room each needs the same snapshot (who is online, what
plays, the latest chat seq). Reading it once per socket makes connecting O(n) each and O(n²)
in all. ``Coalesced`` reads a key at most once at a time: every caller that asks while no read
of the key has started waits for the next read, and that read starts after all of them
asked. So each caller gets a value read after its call, exactly as if it had read alone
(which the hello needs: a snapshot older than the socket's subscription could miss an event).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Coalesced(Generic[K, V]):
    def __init__(self, load: Callable[[K], Awaitable[V]]) -> None:
        self._load = load
        # The next read's result, per key, for the callers waiting on it (not started yet).
        self._next: dict[K, asyncio.Future[V]] = {}
        self._readers: dict[K, asyncio.Task[None]] = {}
        self.reads = 0

    async def get(self, key: K) -> V:
        future = self._next.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            # Nobody may be left to take an error (every caller cancelled): mark it seen.
            future.add_done_callback(_consume)
            self._next[key] = future
            if key not in self._readers:
                self._readers[key] = asyncio.create_task(self._read(key))
        # A cancelled caller leaves the read (and the other callers) alone.
        return await asyncio.shield(future)

    async def _read(self, key: K) -> None:
        try:
            while (future := self._next.pop(key, None)) is not None:
                self.reads += 1
                try:
                    value = await self._load(key)
                except asyncio.CancelledError:
                    future.cancel()
                    raise
                except Exception as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(value)
        finally:
            self._readers.pop(key, None)
            # Stopped (the process is stopping): no caller waits for a read that never comes.
            pending = self._next.pop(key, None)
            if pending is not None:
                pending.cancel()

    async def close(self) -> None:
        readers = list(self._readers.values())
        for reader in readers:
            reader.cancel()
        for reader in readers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
