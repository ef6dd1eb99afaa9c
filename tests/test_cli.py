"""The `tunewave` command and its supervisor, run as real processes against the test services."""

from __future__ import annotations

import asyncio
import gzip
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.core.config import get_settings
from api.tracks.catalog import SPOTIFY_SONGS_PATH
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.database import alembic_config, drop_database, recreate_database
from tests.support.leases import lease_held_elsewhere
from tests.support.processes import (
    start_tunewave_run,
    still_running,
    tunewave_command,
    tunewave_env,
    wait_for,
)
from tunewave.cli import build_parser, main
from tunewave.embedded import free_tcp_port
from tunewave.supervisor import ChildSpec, Supervisor

HEAD = ScriptDirectory.from_config(alembic_config(TEST_DATABASE_URL)).get_current_head()


@pytest.fixture
async def scratch_database_url() -> AsyncIterator[str]:
    """An empty database of its own, for commands that migrate and commit for real."""
    # Unique, so suites running side by side on one server never share it.
    url = make_url(TEST_DATABASE_URL).set(database=f"tunewave_cli_{uuid.uuid4().hex[:12]}")
    rendered = url.render_as_string(hide_password=False)
    await recreate_database(rendered)
    yield rendered
    await drop_database(rendered)


def _applied_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _count(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()


# --- the parser --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["run", "--help"], ["migrate", "--help"], ["catalog", "import", "--help"]],
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert "usage: tunewave" in capsys.readouterr().out


def test_run_options_are_parsed() -> None:
    args = build_parser().parse_args(
        ["run", "--host", "0.0.0.0", "--port", "9000", "--no-worker", "--no-beat"]
    )
    assert (args.host, args.port, args.worker, args.beat) == ("0.0.0.0", 9000, False, False)
    defaults = build_parser().parse_args(["run"])
    assert (defaults.host, defaults.port, defaults.worker, defaults.beat) == (
        None,
        None,
        True,
        True,
    )


@pytest.mark.parametrize(
    "argv", [[], ["run", "--port", "70000"], ["run", "--port", "web"], ["nope"]]
)
def test_bad_arguments_exit_with_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: tunewave" in capsys.readouterr().err


# --- tunewave migrate --------------------------------------------------------------------


async def test_migrate_upgrades_the_database_url_to_head(scratch_database_url: str) -> None:
    result = tunewave_command("migrate", env=tunewave_env(DATABASE_URL=scratch_database_url))
    assert result.returncode == 0, result.stderr
    assert _applied_revision(scratch_database_url) == HEAD
    again = tunewave_command("migrate", env=tunewave_env(DATABASE_URL=scratch_database_url))
    assert again.returncode == 0, again.stderr


async def test_a_start_skips_alembic_only_while_the_stamp_matches(
    scratch_database_url: str, tmp_path: Path
) -> None:
    import json

    from tunewave.cli import migrate_if_needed as migrate_sync

    async def migrate_if_needed(url: str, stamp: Path) -> str:
        # alembic's env.py runs its own event loop: not on the test's.
        return await asyncio.to_thread(migrate_sync, url, stamp)

    stamp = tmp_path / "migrated.json"
    assert await migrate_if_needed(scratch_database_url, stamp) == f"upgraded to {HEAD}"
    assert _applied_revision(scratch_database_url) == HEAD
    assert await migrate_if_needed(scratch_database_url, stamp) == f"up to date ({HEAD})"
    # Changed migration scripts (another fingerprint): alembic runs again.
    recorded = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({**recorded, "fingerprint": "other scripts"}))
    assert await migrate_if_needed(scratch_database_url, stamp) == f"upgraded to {HEAD}"
    # A database at another revision than the stamp recorded (restored from a backup, say).
    recorded = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({**recorded, "revision": "an older one"}))
    assert await migrate_if_needed(scratch_database_url, stamp) == f"upgraded to {HEAD}"
    assert await migrate_if_needed(scratch_database_url, stamp) == f"up to date ({HEAD})"


def test_migrate_names_an_unreachable_database() -> None:
    closed_port = free_tcp_port()
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{closed_port}/nowhere"
    result = tunewave_command("migrate", env=tunewave_env(DATABASE_URL=url))
    assert result.returncode == 1
    assert (
        f"tunewave: cannot migrate postgresql+psycopg://postgres:***@127.0.0.1:{closed_port}"
        in (result.stderr)
    )
    assert "Traceback" not in result.stderr


# --- tunewave run with DATABASE_URL / REDIS_URL set ---------------------------------------


def test_run_refuses_a_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = tunewave_command("run", "--port", str(port), env=tunewave_env())
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


async def test_run_migrates_serves_and_stops_every_child(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = tunewave_env(
        DATABASE_URL=scratch_database_url,
        REDIS_URL=TEST_REDIS_URL,
        TUNEWAVE_DATA_DIR=str(tmp_path / "data"),
    )
    run = start_tunewave_run(env=env, log_path=tmp_path / "run.log")
    run.wait_ready(timeout_s=90)
    assert _applied_revision(scratch_database_url) == HEAD
    # The first start loads the bundled catalog, so there is music to find and queue.
    assert _count(scratch_database_url, "tracks") > 28_000
    children = run.descendants()
    commands = [" ".join(child.cmdline()) for child in children]
    assert any("uvicorn api.main:app" in command for command in commands), commands
    assert any("workers.celery_app worker" in command for command in commands), commands
    assert any("workers.celery_app beat" in command for command in commands), commands
    # Ctrl-C is how people stop it.
    assert run.stop(signal.SIGINT) == 0, run.log()
    assert still_running(children) == []
    assert "TuneWave is running at " + run.url in run.log()


async def test_run_shuts_everything_down_when_a_child_dies(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = tunewave_env(DATABASE_URL=scratch_database_url, REDIS_URL=TEST_REDIS_URL)
    run = start_tunewave_run("--no-beat", env=env, log_path=tmp_path / "run.log")
    run.wait_ready(timeout_s=90)
    children = run.descendants()
    web = next(c for c in children if "uvicorn" in " ".join(c.cmdline()))
    web.kill()
    try:
        returncode = run.process.wait(60)
    except subprocess.TimeoutExpired:
        run.kill()
        raise
    assert returncode == 1, run.log()
    assert "web exited unexpectedly" in run.log()
    assert still_running(children) == []


# --- the supervisor on its own ------------------------------------------------------------

_IGNORES_SIGTERM = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A grandchild that also ignores SIGTERM: only a group kill reaches it.
    subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    print("ready", flush=True)
    time.sleep(600)
    """
)


def test_supervisor_kills_the_group_of_a_child_that_ignores_sigterm() -> None:
    supervisor = Supervisor(
        [
            ChildSpec("stubborn", [sys.executable, "-c", _IGNORES_SIGTERM]),
            ChildSpec("polite", [sys.executable, "-c", "import time; time.sleep(600)"]),
        ],
        env=tunewave_env(),
        stop_timeout_s=1.0,
    )
    supervisor.start()
    try:
        stubborn = psutil.Process(supervisor.children[0].pid)
        wait_for(lambda: len(stubborn.children()) == 1, 30, "the grandchild to start")
        family = [stubborn, *stubborn.children(), psutil.Process(supervisor.children[1].pid)]
        supervisor.handle_signal(signal.SIGTERM)
        assert supervisor.wait() is None
    finally:
        supervisor.stop()
    assert still_running(family) == []


def test_supervisor_reports_the_child_that_exited() -> None:
    supervisor = Supervisor(
        [
            ChildSpec("short", [sys.executable, "-c", "raise SystemExit(3)"]),
            ChildSpec("long", [sys.executable, "-c", "import time; time.sleep(600)"]),
        ],
        env=tunewave_env(),
    )
    supervisor.start()
    try:
        exited = supervisor.wait()
    finally:
        supervisor.stop()
    assert exited is not None
    assert (exited.name, exited.process.returncode) == ("short", 3)
    assert supervisor.children[1].process.returncode is not None


def test_children_get_the_service_urls_and_the_served_address() -> None:
    from tunewave.cli import child_environment

    settings = get_settings().model_copy(
        update={
            "database_url": "postgresql+psycopg://db/x",
            "redis_url": "redis://r:1/2",
            "port": 9123,
        }
    )
    env = child_environment(settings)
    assert env["DATABASE_URL"] == "postgresql+psycopg://db/x"
    assert env["REDIS_URL"] == "redis://r:1/2"
    assert env["TUNEWAVE_PUBLIC_API_URL"] == "http://127.0.0.1:9123"
    assert env["TUNEWAVE_FRONTEND_URL"] == "http://127.0.0.1:9123"


_SLOW_TO_STOP = textwrap.dedent(
    """
    import pathlib, signal, sys, time
    def stop(*_):
        time.sleep(0.5)  # finishing its current work
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    pathlib.Path(sys.argv[1]).touch()
    time.sleep(600)
    """
)


@pytest.mark.parametrize(
    ("duplicate_window_s", "expected_returncode"),
    [
        # One Ctrl-C delivered twice (terminal + `uv run` forwarding it): still graceful.
        (60.0, 0),
        # A real second Ctrl-C: kill now.
        (0.0, -signal.SIGKILL),
    ],
)
def test_a_second_signal_kills_but_a_duplicate_does_not(
    duplicate_window_s: float,
    expected_returncode: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tunewave.supervisor

    monkeypatch.setattr(tunewave.supervisor, "DUPLICATE_SIGNAL_WINDOW_S", duplicate_window_s)
    started = tmp_path / "started"
    supervisor = Supervisor(
        [ChildSpec("slow", [sys.executable, "-c", _SLOW_TO_STOP, str(started)])],
        env=tunewave_env(),
        stop_timeout_s=30.0,
    )
    supervisor.start()
    try:
        wait_for(started.exists, 30, "the child to install its SIGTERM handler")
        supervisor.handle_signal(signal.SIGINT)
        supervisor.handle_signal(signal.SIGINT)
        assert supervisor.wait() is None
    finally:
        supervisor.stop()
    assert supervisor.children[0].process.returncode == expected_returncode


# --- catalog import -------------------------------------------------------------------------


async def test_catalog_import_is_idempotent(scratch_database_url: str, tmp_path: Path) -> None:
    source = gzip.decompress(SPOTIFY_SONGS_PATH.read_bytes()).decode().splitlines()
    sample = tmp_path / "sample.csv"
    sample.write_text("\n".join(source[:201]) + "\n")  # header + 200 rows
    env = tunewave_env(DATABASE_URL=scratch_database_url)
    first = tunewave_command("catalog", "import", "--file", str(sample), env=env)
    assert first.returncode == 0, first.stderr
    counts = {table: _count(scratch_database_url, table) for table in ("tracks", "track_genres")}
    assert 0 < counts["tracks"] <= 200
    second = tunewave_command("catalog", "import", "--file", str(sample), env=env)
    assert second.returncode == 0, second.stderr
    assert f"catalog: {counts['tracks']} tracks" in second.stdout
    assert {table: _count(scratch_database_url, table) for table in counts} == counts


def test_catalog_import_names_a_missing_file(tmp_path: Path) -> None:
    result = tunewave_command(
        "catalog", "import", "--file", str(tmp_path / "nope.csv"), env=tunewave_env()
    )
    assert result.returncode == 1
    assert "no such file" in result.stderr


# --- train ----------------------------------------------------------------------------------


def test_train_answers_busy_while_another_training_runs() -> None:
    """`tunewave train` takes the training lease too: while a worker trains, it answers busy
    instead of training next to it."""
    from api.recommendations.training import LEASE

    with lease_held_elsewhere(TEST_REDIS_URL, LEASE, 1.5):
        result = tunewave_command("train", env=tunewave_env(TUNEWAVE_TASK_LEASE_TTL_S="1.5"))
    assert result.returncode == 1, result.stderr
    assert "training: busy" in result.stdout
    assert "another training is running" in result.stdout


# --- console and child logs -------------------------------------------------------------------


def test_child_output_goes_to_its_log_file_and_errors_to_the_console(tmp_path: Path) -> None:
    import io

    chatty = (
        "import sys; print('celery@host banner'); print('ERROR something broke'); "
        "print('last words'); sys.stdout.flush(); raise SystemExit(4)"
    )
    console = io.StringIO()
    supervisor = Supervisor(
        [
            ChildSpec("worker", [sys.executable, "-c", chatty]),
            ChildSpec("web", [sys.executable, "-c", "import time; time.sleep(600)"]),
        ],
        env=tunewave_env(),
        log_dir=tmp_path / "logs",
        console=console,
    )
    supervisor.start()
    try:
        exited = supervisor.wait()
    finally:
        supervisor.stop()
    assert exited is not None
    assert exited.name == "worker"
    log = (tmp_path / "logs" / "worker.log").read_text()
    assert "celery@host banner" in log
    assert "last words" in log
    shown = console.getvalue()
    assert "worker error" in shown
    assert "ERROR something broke" in shown
    # A dead child's last lines, and where the rest is.
    assert "worker exited with status 4" in shown
    assert "last words" in shown
    assert str(tmp_path / "logs" / "worker.log") in shown
    # Ordinary lines stay in the file only.
    assert shown.count("celery@host banner") == 1  # in the dead child's tail, nowhere else


def test_only_error_lines_reach_the_console() -> None:
    from tunewave.supervisor import is_error_line

    assert is_error_line('{"level": "error", "msg": "boom"}')
    assert is_error_line("[2026-12-01 06:34:02,273: ERROR/MainProcess] consumer: Cannot connect")
    assert is_error_line("Traceback (most recent call last):")
    assert not is_error_line('{"level": "info", "msg": "request"}')
    assert not is_error_line("[2026-12-01 06:34:02,273: INFO/MainProcess] celery@host ready.")
    assert not is_error_line("not json {")
