"""The fault scenarios, parameterised: the suite runs them reduced, ``bench/faults.py`` in full.

Each returns a result with what the assertions need and the figures the bench prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.faults.harness import (
    ChatClient,
    Chatter,
    RestLog,
    Stack,
    all_messages,
    call,
    connected_users,
    false_lefts,
    make_room,
    online_in_redis,
    start_clients,
    stopped,
    until,
)


@dataclass
class ChatOutcome:
    acked: set[str] = field(default_factory=set)  # client_ids acknowledged (socket or REST)
    stored: list[dict[str, Any]] = field(default_factory=list)
    missing_from_store: set[str] = field(default_factory=set)
    duplicates_in_store: list[str] = field(default_factory=list)
    missing_per_client: dict[str, int] = field(default_factory=dict)
    internal_errors: int = 0
    server_errors: list[tuple[str, int]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def _check_chat(
    outcome: ChatOutcome, clients: list[ChatClient], stored: list[dict[str, Any]], rest: RestLog
) -> None:
    outcome.stored = stored
    for client in clients:
        outcome.acked |= set(client.acked)
    ids = Counter((m["user"]["id"], m["client_id"]) for m in stored if m.get("client_id"))
    outcome.duplicates_in_store = [f"{u}:{c}" for (u, c), n in ids.items() if n > 1]
    stored_ids = {m["client_id"] for m in stored}
    outcome.missing_from_store = outcome.acked - stored_ids
    for client in clients:
        first = (client.messages and min(client.messages)) or 0
        wanted = {m["seq"] for m in stored if m["seq"] >= first}
        outcome.missing_per_client[client.person.name] = len(wanted - set(client.messages))
    outcome.internal_errors = sum(
        1 for client in clients for e in client.errors if e.get("code") == "internal"
    )
    outcome.server_errors = [(w, s) for w, s in rest.server_errors if not w.endswith("/readyz")]


async def _quiesce(clients: list[ChatClient], chatter: Chatter, timeout_s: float) -> None:
    chatter.quiet()
    try:
        await until(lambda: all(not c.pending for c in clients), timeout_s, "every message acked")
    except AssertionError as exc:
        waiting = sum(len(c.pending) for c in clients)
        codes = Counter(e.get("code") for c in clients for e in c.errors)
        raise AssertionError(f"{exc}: {waiting} unacknowledged, errors {dict(codes)}") from None
    finally:
        await chatter.stop()


async def _stop_all(clients: list[ChatClient], *others: Any) -> None:
    for other in others:
        if other is not None:
            await other.stop()
    await asyncio.gather(*(client.stop() for client in clients))


@dataclass
class RedisOutageResult(ChatOutcome):
    presence_converged_s: float = 0.0
    false_lefts: list[str] = field(default_factory=list)
    recommendations_during: list[int] = field(default_factory=list)
    readyz_during: list[int] = field(default_factory=list)
    readyz_back_s: float = 0.0


async def redis_outage(
    stack: Stack,
    *,
    listeners: int,
    outage_s: float,
    chat_period_s: float,
    refresh_s: float,
    settle_s: float = 2.0,
) -> RedisOutageResult:
    """Clients chat across two API processes; Redis is killed for ``outage_s`` and comes back
    empty while they keep chatting (and REST posts, recommendations and /readyz are asked)."""
    result = RedisOutageResult()
    rest = RestLog()
    apis = stack.apis
    owner, *people = await stack.people(listeners + 1)
    room_id = await make_room(apis[0], owner)
    clients = await start_clients(people, room_id, apis)
    probe = stack.redis()
    chatter = Chatter(clients, chat_period_s)
    try:
        return await _redis_outage(
            stack,
            result,
            rest,
            owner,
            people,
            room_id,
            clients,
            probe,
            chatter,
            outage_s=outage_s,
            refresh_s=refresh_s,
            settle_s=settle_s,
        )
    finally:
        await _stop_all(clients, chatter)
        probe.close()


async def _redis_outage(
    stack: Stack,
    result: RedisOutageResult,
    rest: RestLog,
    owner: Any,
    people: list[Any],
    room_id: str,
    clients: list[ChatClient],
    probe: Any,
    chatter: Chatter,
    *,
    outage_s: float,
    refresh_s: float,
    settle_s: float,
) -> RedisOutageResult:
    apis = stack.apis
    everyone = {p.id for p in people}
    await until(lambda: online_in_redis(probe, room_id) >= everyone, 30, "presence of everyone")
    chatter.start()
    await asyncio.sleep(settle_s)

    stack.redis_server.kill()
    down_at = time.monotonic()
    rest_acked: set[str] = set()

    over = asyncio.Event()

    async def probe_while_down() -> None:
        # REST posts, recommendations and /readyz, on both processes, all along the outage
        # (the round under way when it ends is finished: at least one round is made).
        n = 0
        while n == 0 or not over.is_set():
            api = apis[n % len(apis)]
            client_id = f"rest-{n}"
            posted, reco, ready = await asyncio.gather(
                call(
                    api,
                    "POST",
                    f"/chat/{room_id}",
                    owner,
                    rest,
                    json={"text": f"over REST {n}", "client_id": client_id},
                ),
                call(api, "GET", "/recommendations/tracks", people[0], rest),
                call(api, "GET", "/readyz", None, rest),
            )
            if posted.status_code in (200, 201):
                rest_acked.add(client_id)
            result.recommendations_during.append(reco.status_code)
            result.readyz_during.append(ready.status_code)
            n += 1
            if not over.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(over.wait(), 0.5)

    prober = asyncio.create_task(probe_while_down())
    await asyncio.sleep(outage_s)
    over.set()
    await prober
    stack.redis_server.start()
    back_at = time.monotonic()
    result.figures["outage_s"] = round(back_at - down_at, 2)

    async def ready_everywhere() -> bool:
        for api in apis:
            if (await call(api, "GET", "/readyz", None, rest)).status_code != 200:
                return False
        return True

    result.readyz_back_s = await until(ready_everywhere, 30, "/readyz 200 on every process")
    connected = connected_users(clients)
    result.presence_converged_s = (time.monotonic() - back_at) + await until(
        lambda: online_in_redis(probe, room_id) == connected_users(clients),
        max(30.0, 6 * refresh_s),
        "presence to equal the connected users",
        interval_s=0.05,
    )
    await asyncio.sleep(settle_s)
    await _quiesce(clients, chatter, 60)
    stored = await all_messages(apis[0], room_id, owner)
    stored_seqs = {m["seq"] for m in stored}

    def everyone_has_everything() -> bool:
        return all(
            client.has_all({s for s in stored_seqs if s >= (min(client.messages or [0]))})
            for client in clients
        )

    result.figures["all_delivered_after_quiet_s"] = round(
        await until(everyone_has_everything, 30, "every client to have every message", 0.1), 2
    )
    _check_chat(result, clients, stored, rest)
    result.acked |= rest_acked
    result.missing_from_store = result.acked - {m["client_id"] for m in stored}
    result.false_lefts = false_lefts(clients, connected)
    result.figures.update(
        sent=chatter.sent,
        stored=len(stored),
        rest_posts=len(rest_acked),
        reconnects=sum(c.connects - 1 for c in clients),
        # Messages a client got twice: the overlap of a resume that filled a gap.
        resume_overlap_frames=sum(c.duplicate_frames for c in clients),
        rate_limited=sum(1 for c in clients for e in c.errors if e.get("code") == "rate_limited"),
        presence_converged_s=round(result.presence_converged_s, 2),
        readyz_back_s=round(result.readyz_back_s, 2),
    )
    return result


@dataclass
class TrackEndResult:
    advanced_after_redis_s: float = 0.0
    seen_by: int = 0
    figures: dict[str, Any] = field(default_factory=dict)


async def redis_down_at_track_end(
    stack: Stack, *, track_ms: int, down_before_end_s: float, down_after_end_s: float
) -> TrackEndResult:
    """A track ends while Redis is down: how long after Redis returns does the room move on
    (as seen by a client on each API process)?"""
    result = TrackEndResult()
    apis = stack.apis
    owner, guest = await stack.people(2, prefix="dj")
    room_id = await make_room(apis[0], owner)
    first = await stack.track(track_ms)
    second = await stack.track(600_000)
    for spotify_id in (first, second):
        added = await call(
            apis[0], "POST", f"/rooms/{room_id}/queue", owner, json={"spotify_id": spotify_id}
        )
        assert added.status_code == 201, added.text
    clients = await start_clients([owner, guest], room_id, apis)
    try:
        return await _track_end(
            stack,
            result,
            owner,
            room_id,
            clients,
            second,
            track_ms,
            down_before_end_s,
            down_after_end_s,
        )
    finally:
        await _stop_all(clients)


async def _track_end(
    stack: Stack,
    result: TrackEndResult,
    owner: Any,
    room_id: str,
    clients: list[ChatClient],
    second: str,
    track_ms: int,
    down_before_end_s: float,
    down_after_end_s: float,
) -> TrackEndResult:
    apis = stack.apis
    played = await call(
        apis[0], "POST", f"/rooms/{room_id}/playback", owner, json={"action": "play"}
    )
    assert played.status_code == 200, played.text
    state = played.json()
    ends_at_ms = state["started_at_ms"] + track_ms
    await asyncio.sleep(max(0.0, (ends_at_ms - time.time() * 1000) / 1000 - down_before_end_s))
    stack.redis_server.kill()
    await asyncio.sleep(max(0.0, (ends_at_ms - time.time() * 1000) / 1000 + down_after_end_s))
    stack.redis_server.start()
    back_at = time.monotonic()

    def moved(client: ChatClient) -> float | None:
        for at, frame in client.events:
            if (
                frame.get("type") == "playback"
                and (frame["state"].get("track") or {}).get("spotify_id") == second
            ):
                return at
        return None

    await until(lambda: all(moved(c) is not None for c in clients), 30, "the next track")
    times = [moved(c) or 0.0 for c in clients]
    result.advanced_after_redis_s = max(times) - back_at
    result.seen_by = len(clients)
    result.figures.update(
        advanced_after_redis_s=round(result.advanced_after_redis_s, 3),
        per_process_s=[round(t - back_at, 3) for t in times],
    )
    return result


@dataclass
class StallResult:
    presence_converged_s: float = 0.0
    false_lefts: list[str] = field(default_factory=list)
    online_during_stall: int = 0
    figures: dict[str, Any] = field(default_factory=dict)


async def api_stall(
    stack: Stack, *, listeners: int, stall_s: float, refresh_s: float
) -> StallResult:
    """One of two API processes is SIGSTOPped for ``stall_s`` (longer than the presence TTL)
    while its clients stay connected; then SIGCONT."""
    result = StallResult()
    apis = stack.apis
    owner, *people = await stack.people(listeners + 1, prefix="stall")
    room_id = await make_room(apis[0], owner)
    clients = await start_clients(people, room_id, apis)
    probe = stack.redis()
    try:
        return await _stall(stack, result, people, room_id, clients, probe, stall_s, refresh_s)
    finally:
        await _stop_all(clients)
        probe.close()


async def _stall(
    stack: Stack,
    result: StallResult,
    people: list[Any],
    room_id: str,
    clients: list[ChatClient],
    probe: Any,
    stall_s: float,
    refresh_s: float,
) -> StallResult:
    apis = stack.apis
    everyone = {p.id for p in people}
    await until(lambda: online_in_redis(probe, room_id) == everyone, 30, "presence of everyone")
    with stopped(apis[1].process):
        await asyncio.sleep(stall_s)
        result.online_during_stall = len(online_in_redis(probe, room_id))
    resumed_at = time.monotonic()
    result.presence_converged_s = await until(
        lambda: online_in_redis(probe, room_id) == everyone,
        max(30.0, 6 * refresh_s),
        "presence to equal the connected users",
        interval_s=0.05,
    )
    # Give a wrong `left` (if any) the time to arrive, two refresh periods.
    await asyncio.sleep(2 * refresh_s)
    result.false_lefts = false_lefts(clients, everyone)
    result.figures.update(
        stall_s=stall_s,
        online_during_stall=f"{result.online_during_stall}/{len(everyone)}",
        presence_converged_after_sigcont_s=round(result.presence_converged_s, 2),
        since_sigcont_s=round(time.monotonic() - resumed_at, 2),
    )
    return result


@dataclass
class PostgresRestartResult:
    statuses_after: Counter[int] = field(default_factory=Counter)
    missing_from_store: set[str] = field(default_factory=set)
    figures: dict[str, Any] = field(default_factory=dict)


async def postgres_restart(stack: Stack, *, posters: int, down_s: float) -> PostgresRestartResult:
    """Every API process has several pooled connections when PostgreSQL restarts (fast
    shutdown: every backend is terminated); once it is back, ``posters`` people post at once
    on every process. Each of those first requests must get a live connection (201), none an
    error from a connection the restart killed."""
    result = PostgresRestartResult()
    apis = stack.apis
    owner, *people = await stack.people(posters + 1, prefix="pg restart")
    room_id = await make_room(apis[0], owner)
    for person in people:
        joined = await call(apis[0], "POST", f"/rooms/{room_id}/join", person)
        assert joined.status_code in (200, 201), joined.text

    async def post_everywhere(label: str) -> list[tuple[str, int]]:
        async def one(api: Any, person: Any, n: int) -> tuple[str, int]:
            client_id = f"{label}-{n}-{person.id[:8]}"
            response = await call(
                api,
                "POST",
                f"/chat/{room_id}",
                person,
                json={"text": f"{label} {n}", "client_id": client_id},
            )
            return client_id, response.status_code

        return list(
            await asyncio.gather(
                *(one(api, person, n) for n, api in enumerate(apis) for person in people)
            )
        )

    # Concurrent posts leave several connections in each process's pools.
    warm = await post_everywhere("warm")
    assert {status for _, status in warm} == {201}, warm
    stack.postgres.stop("fast")
    await asyncio.sleep(down_s)
    stack.postgres.start()
    if stack.engine is not None:  # the harness's own pool lost its connections too
        await stack.engine.dispose()
    back_at = time.monotonic()
    after = await post_everywhere("after")
    first_round_s = time.monotonic() - back_at
    result.statuses_after = Counter(status for _, status in after)
    stored = {m.get("client_id") for m in await all_messages(apis[1], room_id, owner)}
    result.missing_from_store = {
        client_id for client_id, status in after if status == 201 and client_id not in stored
    }
    result.figures.update(
        pooled_before=len(warm),
        down_s=down_s,
        posts_after=len(after),
        statuses_after=dict(result.statuses_after),
        first_round_s=round(first_round_s, 2),
        missing_from_store=len(result.missing_from_store),
    )
    return result


# --- workers -----------------------------------------------------------------------------------

LEASE_KEY = "tunewave:lease:training"


async def seed_listening(stack: Stack, *, listeners: int, tracks_per_genre: int) -> None:
    """Enough listening history (two genre clusters) for a training that publishes."""
    from datetime import UTC, datetime, timedelta

    from api.models import Genre, ListeningEvent, ListeningSource
    from tests.factories import create_track, create_user

    now = datetime.now(UTC)
    async with stack._maker()() as session:
        for cluster in ("a", "b"):
            genre = Genre(slug=f"faults-{cluster}", name=f"Faults {cluster}")
            session.add(genre)
            await session.flush()
            tracks = [
                await create_track(
                    session,
                    title=f"faults {cluster}{n}",
                    artists=(f"faults {cluster}",),
                    genres=[genre],
                )
                for n in range(tracks_per_genre)
            ]
            for n in range(listeners // 2):
                user = await create_user(session)
                start = n % max(tracks_per_genre - 5, 1)
                for m, track in enumerate(tracks[start : start + 5 + n % 4]):
                    session.add(
                        ListeningEvent(
                            user_id=user.id,
                            track_id=track.id,
                            source=ListeningSource.demo,
                            played_at=now - timedelta(minutes=m),
                            ms_played=1000 + m,
                        )
                    )
        await session.commit()


def send_training(stack: Stack) -> str:
    """Queue a training on the stack's broker, as beat or `tunewave train --queue` would."""
    from celery import Celery

    app = Celery("faults", broker=stack.redis_server.url(), backend=stack.redis_server.url())
    try:
        return str(
            app.send_task("workers.training.train_recommender", kwargs={"reason": "faults"}).id
        )
    finally:
        app.close()


def lease_holder(stack: Stack) -> dict[str, Any] | None:
    import json

    client = stack.redis()
    try:
        raw = client.get(LEASE_KEY)
    finally:
        client.close()
    return json.loads(raw) if isinstance(raw, str) else None


async def published_runs(stack: Stack) -> list[str]:
    from sqlalchemy import select

    from api.models import ModelRun, ModelRunStatus

    async with stack._maker()() as session:
        rows = await session.scalars(
            select(ModelRun.version).where(ModelRun.status == ModelRunStatus.published)
        )
        return list(rows)


@dataclass
class WorkerKillResult:
    killed_pid: int = 0
    taken_over_by: int = 0
    redelivered_s: float = 0.0
    completed_s: float = 0.0
    published: list[str] = field(default_factory=list)
    # Deliveries of this training answered "busy" before the takeover: a stale lease refused
    # (the defect). One answered busy later met the live run that took over: as designed.
    busy_answers: int = 0
    busy_later: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


async def worker_killed_mid_training(
    stack: Stack, *, whole_worker: bool, timeout_s: float
) -> WorkerKillResult:
    """Kill the pool child running a training (or the whole worker running it, another
    worker being up): the task must come back, take over the dead run's lease and publish."""
    result = WorkerKillResult()
    before = set(await published_runs(stack))
    task_id = send_training(stack)

    def busy_lines() -> list[str]:
        return [
            line
            for line in stack.worker_logs().splitlines()
            if task_id in line and "'status': 'busy'" in line
        ]

    await until(lambda: lease_holder(stack) is not None, 60, "the training to start", 0.005)
    holder = lease_holder(stack)
    assert holder is not None
    result.killed_pid = int(holder["pid"])
    if whole_worker:
        worker = stack.worker_of(result.killed_pid)
        assert worker is not None, "the lease holder is none of our workers"
        stack.kill_worker(worker)
        stack.workers.remove(worker)
    else:
        os.kill(result.killed_pid, signal.SIGKILL)
    killed_at = time.monotonic()

    def taken_over() -> bool:
        current = lease_holder(stack)
        return current is not None and int(current["pid"]) != result.killed_pid

    async def done() -> bool:
        return bool(set(await published_runs(stack)) - before)

    await until(taken_over, timeout_s, "the training to be redelivered", 0.02)
    result.redelivered_s = time.monotonic() - killed_at
    result.busy_answers = len(busy_lines())
    holder = lease_holder(stack)
    result.taken_over_by = int(holder["pid"]) if holder else 0
    await until(done, 120, "the redelivered training to publish", 0.2)
    result.completed_s = time.monotonic() - killed_at
    result.published = sorted(set(await published_runs(stack)) - before)
    result.busy_later = busy_lines()[result.busy_answers :]
    result.figures.update(
        redelivered_s=round(result.redelivered_s, 2),
        completed_s=round(result.completed_s, 2),
        published=len(result.published),
        busy=result.busy_answers,
        busy_after_takeover=len(result.busy_later),
    )
    return result
