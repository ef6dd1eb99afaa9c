"""Client-side clock-offset estimator: the Python twin of ``web/src/sync/clockSync.ts``.

The benchmark (bench/sync.py) and the tests use it to play listeners. Same rule as the
TypeScript module: the median offset of the ``best_of`` lowest-round-trip samples among the
last ``window_size``, with half the best round trip as the uncertainty. Keep the two in step.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ClockSample:
    offset_ms: float
    round_trip_ms: float
    received_at: float


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    offset_ms: float
    uncertainty_ms: float
    best_round_trip_ms: float
    samples: int


def sample_from_pong(pong: dict[str, Any], t3: float) -> ClockSample | None:
    try:
        t0, t1, t2 = float(pong["t0"]), float(pong["t1"]), float(pong["t2"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(value) for value in (t0, t1, t2, t3)):
        return None
    round_trip_ms = (t3 - t0) - (t2 - t1)
    if round_trip_ms < 0 or t2 < t1:
        return None
    return ClockSample(((t1 - t0) + (t2 - t3)) / 2, round_trip_ms, t3)


class ClockSync:
    def __init__(
        self, *, window_size: int = 32, best_of: int = 3, now: Callable[[], float]
    ) -> None:
        self.best_of = max(1, best_of)
        self.now = now
        self.samples: deque[ClockSample] = deque(maxlen=max(1, window_size))

    def make_ping(self) -> dict[str, Any]:
        return {"type": "ping", "t0": self.now()}

    def add_pong(self, pong: dict[str, Any], t3: float | None = None) -> ClockSample | None:
        sample = sample_from_pong(pong, self.now() if t3 is None else t3)
        if sample is not None:
            self.samples.append(sample)
        return sample

    def estimate(self) -> ClockEstimate | None:
        fastest = sorted(self.samples, key=lambda sample: sample.round_trip_ms)[: self.best_of]
        if not fastest:
            return None
        best = fastest[0].round_trip_ms
        return ClockEstimate(
            offset_ms=statistics.median(sample.offset_ms for sample in fastest),
            uncertainty_ms=best / 2,
            best_round_trip_ms=best,
            samples=len(self.samples),
        )

    def server_now(self) -> float:
        estimate = self.estimate()
        return self.now() + (estimate.offset_ms if estimate else 0.0)
