"""Runs the web, worker and beat processes of `tunewave run` and stops them together.

Policy: a child that exits on its own is a bug or a broken environment, not something to
paper over, so the supervisor logs it and shuts everything down (exit status 1) instead of
restarting it in a loop. In production the platform (Heroku, compose, Kubernetes) restarts
processes; there each process runs on its own, without this supervisor.

Each child gets its own session (process group): a terminal's Ctrl-C reaches only the
supervisor, which then stops the children in order and can kill a child's whole group
(Celery's pool processes included) if it does not exit in time.

Logs: with a ``log_dir`` each child's output (stdout and stderr) goes to ``<log_dir>/<name>.log``
instead of the terminal, so the console keeps a short story (Celery's banner, its warnings and
the request log lines are in the files). Lines at ERROR or above still reach the console,
with the file that holds the rest; a child that dies has its last lines printed. ``stream``
also copies every line to the console (``tunewave run --verbose``).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

logger = logging.getLogger(__name__)

# One Ctrl-C can arrive twice: from the terminal (to the whole foreground process group) and
# forwarded by a wrapper such as `uv run`. Only a signal after this long is a second one.
DUPLICATE_SIGNAL_WINDOW_S = 1.0
# A child's log file is moved to <name>.log.1 at start once it is bigger than this.
LOG_ROTATE_BYTES = 10 * 1024 * 1024
# A stop that takes longer than this says what it waits for.
STILL_STOPPING_NOTICE_S = 3.0
# How many of a dead child's last lines the console shows.
TAIL_LINES = 15
_ERROR_PREFIXES = ("ERROR", "CRITICAL", "Traceback", "[ERROR", "[CRITICAL")


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    # What asks the child to stop (sent to the child itself, not its group).
    stop_signal: int = signal.SIGTERM


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes]
    exit_logged: bool = field(default=False)
    log_path: Path | None = None
    tail: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=TAIL_LINES)
    )
    pump: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.process.pid


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ChildSpec],
        env: Mapping[str, str],
        stop_timeout_s: float = 20.0,
        poll_interval_s: float = 0.2,
        log_dir: Path | None = None,
        stream: bool = False,
        console: TextIO | None = None,
    ) -> None:
        self.specs = list(specs)
        self.log_dir = log_dir
        self.stream = stream
        self.console = console or sys.stderr
        self._console_lock = threading.Lock()
        self.env = dict(env)
        self.stop_timeout_s = stop_timeout_s
        self.poll_interval_s = poll_interval_s
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self._signals_received = 0
        self._first_signal_at: float | None = None

    def start(self, names: Collection[str] | None = None) -> None:
        """Start the children named in ``names`` (default: all) not started yet."""
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        started = {child.name for child in self.children}
        for spec in self.specs:
            if spec.name in started or (names is not None and spec.name not in names):
                continue
            log_path = None if self.log_dir is None else self.log_dir / f"{spec.name}.log"
            process = subprocess.Popen(  # noqa: S603 - argv built by us, no shell
                list(spec.argv),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=None if log_path is None else subprocess.PIPE,
                stderr=None if log_path is None else subprocess.STDOUT,
                start_new_session=True,
            )
            child = Child(spec, process, log_path=log_path)
            if log_path is not None:
                child.pump = threading.Thread(
                    target=self._pump, args=(child, _open_log(log_path)), daemon=True
                )
                child.pump.start()
            self.children.append(child)
            logger.info("started %s", spec.name, extra={"child": spec.name, "pid": process.pid})

    def _pump(self, child: Child, log: IO[bytes]) -> None:
        """Copy a child's output to its log file; errors (or everything, when streaming) to
        the console too."""
        assert child.process.stdout is not None
        with log:
            for raw in child.process.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode(errors="replace").rstrip()
                child.tail.append(line)
                if self.stream:
                    self._say(f"{child.name} | {line}")
                elif is_error_line(line):
                    self._say(f"{child.name} error (more in {child.log_path}): {line}")

    def _say(self, text: str) -> None:
        with self._console_lock:
            print(text, file=self.console, flush=True)

    def report_exit(self, child: Child) -> None:
        """What a dead child said last, and where the rest is."""
        if child.pump is not None:
            # Its pool processes may hold the pipe open; their last words are not worth a hang.
            child.pump.join(2.0)
        if child.log_path is None or self.stream:
            return
        lines = [f"{child.name} exited with status {child.process.returncode}; its last lines:"]
        lines += [f"  {line}" for line in child.tail]
        lines.append(f"(the whole log: {child.log_path})")
        self._say("\n".join(lines))

    def handle_signal(self, signum: int, _frame: object = None) -> None:
        now = time.monotonic()
        if self._first_signal_at is None:
            self._first_signal_at = now
            self._signals_received = 1
        elif now - self._first_signal_at >= DUPLICATE_SIGNAL_WINDOW_S:
            # A second Ctrl-C means "now": skip the graceful wait.
            self._signals_received += 1
            logger.warning("second signal: killing all children")
        self.stop_requested.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.handle_signal)
        signal.signal(signal.SIGTERM, self.handle_signal)

    def exited_child(self) -> Child | None:
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    def wait(self) -> Child | None:
        """Block until a stop is requested (returns None) or a child exits (returns it)."""
        while not self.stop_requested.is_set():
            exited = self.exited_child()
            if exited is not None:
                logger.error(
                    "%s exited unexpectedly with status %s; shutting down",
                    exited.name,
                    exited.process.returncode,
                    extra={"child": exited.name, "returncode": exited.process.returncode},
                )
                exited.exit_logged = True
                self.report_exit(exited)
                return exited
            self.stop_requested.wait(self.poll_interval_s)
        return None

    def stop(self) -> None:
        """SIGTERM every child, wait, then SIGKILL whatever is left of each process group."""
        for child in self.children:
            if child.process.poll() is None:
                # Only the child itself: a Celery worker decides what its pool processes do.
                child.process.send_signal(child.spec.stop_signal)
        deadline = time.monotonic() + self.stop_timeout_s
        told_at: float | None = time.monotonic() + STILL_STOPPING_NOTICE_S
        while (
            any(child.process.poll() is None for child in self.children)
            and time.monotonic() < deadline
            and self._signals_received < 2
        ):
            if told_at is not None and time.monotonic() > told_at:
                told_at = None
                waiting = [child.name for child in self.children if child.process.poll() is None]
                # A Celery worker finishes its running task first (warm shutdown).
                logger.warning(
                    "waiting for %s to finish (up to %.0fs; Ctrl-C again stops it now)",
                    ", ".join(waiting),
                    self.stop_timeout_s,
                )
            time.sleep(self.poll_interval_s)
        for child in self.children:
            if child.process.poll() is None:
                logger.warning("%s did not stop in time; killing it", child.name)
            # Also kills grandchildren the child left behind (e.g. Celery pool processes).
            _signal_group(child.pid, signal.SIGKILL)
            child.process.wait()
            if child.pump is not None:
                child.pump.join(2.0)
            if not child.exit_logged:
                logger.info(
                    "stopped %s",
                    child.name,
                    extra={"child": child.name, "returncode": child.process.returncode},
                )


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def is_error_line(line: str) -> bool:
    """A log line at ERROR or above, in our JSON format or a plain one (uvicorn, Celery)."""
    stripped = line.lstrip()
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped)
        except ValueError:
            return False
        return isinstance(record, dict) and record.get("level") in ("error", "critical")
    return stripped.startswith(_ERROR_PREFIXES) or " ERROR/" in line or " CRITICAL/" in line


def _open_log(path: Path) -> IO[bytes]:
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))
    log = path.open("ab")
    log.write(f"--- started {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
    return log
