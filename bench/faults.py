"""The fault scenarios in full, with figures: a stack of our own (PostgreSQL, Redis, two API
processes, Celery workers; see tests/faults/harness.py) and real WebSocket clients.

    uv run python bench/faults.py                       # every scenario, full size (~4 min)
    uv run python bench/faults.py --only redis,stall    # some of them
    uv run python bench/faults.py --listeners 20 --outage 5   # smaller

Scenarios: ``redis`` (Redis killed for --outage s and restarted empty while --listeners chat
at 1 message/s each across two processes), ``track-end`` (Redis down when a track ends),
``stall`` (one API process SIGSTOPped for --stall s), ``postgres`` (PostgreSQL fast-restarted
under warm connection pools, then everyone posts at once), ``child`` (the pool child running a
training SIGKILLed), ``worker`` (the whole worker running a training SIGKILLed; another one
redelivers it after the default 30 s visibility timeout). Each prints its figures, the
assertions the suite makes (PASS/FAIL) and the machine's load. Exit status 1 if any failed.

Settings are the defaults (presence TTL 15 s, refreshed every 5 s; visibility timeout 30 s),
so the figures are what a deployment sees; the suite (tests/faults/) runs the same
scenarios reduced, with shortened settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.harness import Stack, machine_load
from tests.faults.scenarios import (
    api_stall,
    postgres_restart,
    redis_down_at_track_end,
    redis_outage,
    seed_listening,
    worker_killed_mid_training,
)

PRESENCE_TTL_S = 15.0
REFRESH_S = PRESENCE_TTL_S / 3
failures: list[str] = []


def report(name: str, figures: dict[str, Any], checks: dict[str, bool]) -> None:
    print(f"\n## {name}  ({machine_load()})")
    for key, value in figures.items():
        print(f"  {key:<34} {value}")
    for what, ok in checks.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {what}")
        if not ok:
            failures.append(f"{name}: {what}")


async def guarded(name: str, scenario: Any) -> None:
    """Run one scenario; a scenario that cannot finish is a failed check, not a crash."""
    try:
        await scenario()
    except AssertionError as exc:
        report(name, {}, {f"finished ({exc})": False})


async def live_scenarios(args: argparse.Namespace, only: set[str]) -> None:
    async with Stack() as stack:
        stack.start_apis(2)
        if "redis" in only:
            await guarded("Redis killed and restarted empty", lambda: redis_scenario(stack, args))
        if "track-end" in only:
            await guarded("Redis down when a track ends", lambda: track_end_scenario(stack))
        if "stall" in only:
            await guarded("API process stalled", lambda: stall_scenario(stack, args))
        if "postgres" in only:
            await guarded("PostgreSQL restarted", lambda: postgres_scenario(stack, args))


async def redis_scenario(stack: Stack, args: argparse.Namespace) -> None:
    result = await redis_outage(
        stack,
        listeners=args.listeners,
        outage_s=args.outage,
        chat_period_s=args.chat_period,
        refresh_s=REFRESH_S,
        settle_s=5.0,
    )
    report(
        f"Redis killed {args.outage:g} s and restarted empty, {args.listeners} "
        f"listeners, one message each every {args.chat_period:g} s, over 2 processes",
        {
            **result.figures,
            "acked": len(result.acked),
            "recommendations during": sorted(set(result.recommendations_during)),
            "readyz during": sorted(set(result.readyz_during)),
        },
        {
            "0 acknowledged messages missing from GET /chat": not result.missing_from_store,
            "0 duplicates stored": not result.duplicates_in_store,
            "0 messages missing at any client": not any(result.missing_per_client.values()),
            "no `error internal` frames": result.internal_errors == 0,
            "no 5xx from REST (besides /readyz 503)": not result.server_errors,
            "recommendations answered 200 throughout": set(result.recommendations_during) == {200},
            "/readyz said 503 while Redis was down": 503 in result.readyz_during,
            f"presence exact within 2 x refresh ({2 * REFRESH_S:g} s)": (
                result.presence_converged_s <= 2 * REFRESH_S
            ),
            "no false `left`": not result.false_lefts,
        },
    )


async def track_end_scenario(stack: Stack) -> None:
    ended = await redis_down_at_track_end(
        stack, track_ms=8000, down_before_end_s=2.0, down_after_end_s=5.0
    )
    report(
        "Redis down when a track ends (down 2 s before the end, back 5 s after)",
        ended.figures,
        {
            "both processes' clients moved on within 1 s of Redis returning": (
                ended.advanced_after_redis_s <= 1.0
            )
        },
    )


async def stall_scenario(stack: Stack, args: argparse.Namespace) -> None:
    stalled = await api_stall(
        stack, listeners=args.listeners // 2 or 2, stall_s=args.stall, refresh_s=REFRESH_S
    )
    report(
        f"one API process SIGSTOPped {args.stall:g} s",
        stalled.figures,
        {
            "no false `left`": not stalled.false_lefts,
            f"presence exact within 2 x refresh ({2 * REFRESH_S:g} s) of SIGCONT": (
                stalled.presence_converged_s <= 2 * REFRESH_S
            ),
        },
    )


async def postgres_scenario(stack: Stack, args: argparse.Namespace) -> None:
    posters = max(2, args.listeners // 2)
    restarted = await postgres_restart(stack, posters=posters, down_s=2.0)
    report(
        f"PostgreSQL fast restart (down 2 s) under warm pools, then {posters} posters at once "
        "on each of 2 processes",
        restarted.figures,
        {
            "every first request after the restart succeeded (201)": (
                restarted.statuses_after == {201: posters * 2}
            ),
            "0 acknowledged messages missing from GET /chat": not restarted.missing_from_store,
        },
    )


async def worker_scenarios(only: set[str]) -> None:
    async with Stack() as stack:
        stack.spawn_worker()
        stack.spawn_worker()
        await seed_listening(stack, listeners=40, tracks_per_genre=30)
        for process in stack.workers:
            stack.wait_worker(process)
        if "child" in only:
            child = await worker_killed_mid_training(stack, whole_worker=False, timeout_s=60)
            report(
                "the pool child running a training SIGKILLed",
                child.figures,
                {
                    "redelivered and taken over (not busy)": child.busy_answers == 0
                    and child.taken_over_by not in (0, child.killed_pid),
                    "completed: one model published": len(child.published) == 1,
                },
            )
        if "worker" in only:
            whole = await worker_killed_mid_training(stack, whole_worker=True, timeout_s=90)
            report(
                "the whole worker running a training SIGKILLed (visibility timeout 30 s)",
                whole.figures,
                {
                    "redelivered within a minute": whole.redelivered_s <= 60,
                    "not busy": whole.busy_answers == 0,
                    "completed: one model published": len(whole.published) == 1,
                },
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="redis,track-end,stall,postgres,child,worker")
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--stall", type=float, default=20.0)
    parser.add_argument(
        "--chat-period",
        type=float,
        default=5.0,
        help="seconds between two messages of one listener (the chat limit allows 1)",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"bench/faults.py  {time.strftime('%Y-%m-%d %H:%M:%S')}  {machine_load()}")
    if only & {"redis", "track-end", "stall", "postgres"}:
        asyncio.run(live_scenarios(args, only))
    if only & {"child", "worker"}:
        asyncio.run(worker_scenarios(only))
    print(f"\n{len(failures)} check(s) failed" + (": " + "; ".join(failures) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
