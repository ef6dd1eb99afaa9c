"""The Python twin of web/src/sync/clockSync.ts: the same cases as its Vitest suite."""

from __future__ import annotations

import pytest

from api.realtime.clock_sync import ClockSync, sample_from_pong


def exchange(sync: ClockSync, client_now: float, offset: float, up: float, down: float) -> None:
    t0 = client_now
    t1 = t0 + up + offset
    t2 = t1 + 1
    sync.add_pong({"t0": t0, "t1": t1, "t2": t2}, t2 - offset + down)


def test_a_sample_is_the_ntp_offset_and_round_trip_without_server_time() -> None:
    sample = sample_from_pong({"t0": 1000, "t1": 6010, "t2": 6015}, 1030)
    assert sample is not None
    assert (sample.offset_ms, sample.round_trip_ms) == (4997.5, 25)
    assert sample_from_pong({"t0": 1000, "t1": 10, "t2": 5}, 1010) is None
    assert sample_from_pong({"t0": 1000, "t1": 10, "t2": 20}, 990) is None
    assert sample_from_pong({"t0": "x", "t1": 10, "t2": 20}, 990) is None


def test_the_fastest_samples_win_over_slow_asymmetric_ones() -> None:
    sync = ClockSync(now=lambda: 0.0)
    assert sync.estimate() is None
    for start, up, down in [(0, 150, 20), (100, 20, 170), (200, 180, 30)]:
        exchange(sync, start, -3000, up, down)
    for start, up, down in [(300, 11, 10), (400, 10, 12), (500, 12, 12)]:
        exchange(sync, start, -3000, up, down)
    estimate = sync.estimate()
    assert estimate is not None
    assert estimate.offset_ms == pytest.approx(-3000, abs=1)
    assert (estimate.best_round_trip_ms, estimate.uncertainty_ms, estimate.samples) == (21, 10.5, 6)


def test_the_window_follows_a_changed_offset_and_server_now_applies_it() -> None:
    sync = ClockSync(window_size=4, best_of=1, now=lambda: 10.0)
    for i in range(4):
        exchange(sync, i * 10, 100, 5, 5)
    estimate = sync.estimate()
    assert estimate is not None
    assert estimate.offset_ms == 100
    for i in range(4):
        exchange(sync, 100 + i * 10, 250, 30, 30)
    assert sync.server_now() == 260
