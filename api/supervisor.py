"""Runs the web, worker and beat processes of `tunewave run` and stops them together.

Policy: a child that exits on its own is a bug or a broken environment, not something to
paper over, so the supervisor logs it and shuts everything down (exit status 1) instead of
restarting it in a loop. In production the platform (Heroku, compose, Kubernetes) restarts
processes; there each process runs on its own, without this supervisor.

Each child gets its own session (process group): a terminal's Ctrl-C reaches only the
supervisor, which then stops the children in order and can kill a child's whole group
(Celery's pool processes included) if it does not exit in time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# One Ctrl-C can arrive twice: from the terminal (to the whole foreground process group) and
# forwarded by a wrapper such as `uv run`. Only a signal after this long is a second one.
DUPLICATE_SIGNAL_WINDOW_S = 1.0


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes]
    exit_logged: bool = field(default=False)

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
    ) -> None:
        self.specs = list(specs)
        self.env = dict(env)
        self.stop_timeout_s = stop_timeout_s
        self.poll_interval_s = poll_interval_s
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self._signals_received = 0
        self._first_signal_at: float | None = None

    def start(self) -> None:
        for spec in self.specs:
            process = subprocess.Popen(  # noqa: S603 - argv built by us, no shell
                list(spec.argv),
                env=self.env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.children.append(Child(spec, process))
            logger.info("started %s", spec.name, extra={"child": spec.name, "pid": process.pid})

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
                return exited
            self.stop_requested.wait(self.poll_interval_s)
        return None

    def stop(self) -> None:
        """SIGTERM every child, wait, then SIGKILL whatever is left of each process group."""
        for child in self.children:
            if child.process.poll() is None:
                # Only the child itself: a Celery worker then finishes its running tasks
                # (warm shutdown), which a SIGTERM to its pool processes would cut short.
                child.process.terminate()
        deadline = time.monotonic() + self.stop_timeout_s
        while (
            any(child.process.poll() is None for child in self.children)
            and time.monotonic() < deadline
            and self._signals_received < 2
        ):
            time.sleep(self.poll_interval_s)
        for child in self.children:
            if child.process.poll() is None:
                logger.warning("%s did not stop in time; killing it", child.name)
            # Also kills grandchildren the child left behind (e.g. Celery pool processes).
            _signal_group(child.pid, signal.SIGKILL)
            child.process.wait()
            if not child.exit_logged:
                logger.info(
                    "stopped %s",
                    child.name,
                    extra={"child": child.name, "returncode": child.process.returncode},
                )


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
