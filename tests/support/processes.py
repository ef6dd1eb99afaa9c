"""Starting `tunewave run` (and other commands) as real processes, and checking they are gone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from api.core.config import PROJECT_ROOT
from tunewave.embedded import free_tcp_port


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.2
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(interval_s)


def is_gone(process: psutil.Process) -> bool:
    try:
        # is_running() also guards against the pid having been reused by a new process.
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def still_running(processes: Iterable[psutil.Process], grace_s: float = 5.0) -> list[str]:
    """The processes still alive after ``grace_s``: a killed process exits soon, not at once
    (on a loaded machine its exit can take a moment after the signal)."""
    processes = list(processes)
    deadline = time.monotonic() + grace_s
    while not all(is_gone(process) for process in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = []
    for process in processes:
        if not is_gone(process):
            try:
                survivors.append(f"{process.pid} {' '.join(process.cmdline())}")
            except psutil.Error:
                survivors.append(str(process.pid))
    return survivors


def tunewave_env(**overrides: str | None) -> dict[str, str]:
    """The test process's environment with ``overrides``; a None value removes the variable."""
    env = dict(os.environ)
    env["TUNEWAVE_LOG_JSON"] = "false"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def tunewave_command(
    *args: str, env: Mapping[str, str], timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tunewave.cli", *args],
        env=dict(env),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@dataclass
class RunningTunewave:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def wait_ready(self, timeout_s: float) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"tunewave run exited with {self.process.returncode}:\n{self.log()}"
                )
            # `tunewave run` prints the address once its own /readyz check passed: wait for
            # what a person waits for, so the test never stops it halfway through starting.
            return "TuneWave is running at" in self.log()

        try:
            wait_for(ready, timeout_s, "tunewave run to print its address", interval_s=0.5)
        except AssertionError:
            self.kill()
            raise

    def stop(self, signum: int = signal.SIGTERM, timeout_s: float = 60) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"tunewave run did not stop in {timeout_s:.0f}s:\n{self.log()}"
            ) from None

    def kill(self) -> None:
        """Last resort for a failed test: take the whole tree down."""
        if self.process.poll() is not None:
            return
        for child in self.descendants():
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.process.kill()
        self.process.wait()


def start_tunewave_run(
    *args: str, env: Mapping[str, str], log_path: Path, port: int | None = None
) -> RunningTunewave:
    port = port or free_tcp_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tunewave.cli", "run", "--port", str(port), *args],
            env=dict(env),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return RunningTunewave(process, port, log_path)
