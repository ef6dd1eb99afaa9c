"""A real Celery worker subprocess on the test broker (Redis) and database."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.core.config import PROJECT_ROOT
from tests.support.processes import tunewave_env, wait_for


async def until(condition: Callable[[], Awaitable[object]], timeout_s: float, what: str) -> None:
    """Wait until ``condition()`` is truthy (what a worker process does shows up in the
    database or Redis when it shows up), failing with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


@dataclass
class RunningWorker:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as in an OOM kill, without acknowledging."""
        self.process.kill()
        self.process.wait(10)


@contextmanager
def celery_worker(log_dir: Path, **env: str | None) -> Iterator[RunningWorker]:
    """A solo-pool worker; yields once it logs that it is ready, stops it with SIGTERM."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                "-n",
                name,
            ],
            env=tunewave_env(**env),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = RunningWorker(name, process, log_path)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{worker.log()}")
            return f"{name} ready." in worker.log()

        wait_for(ready, 60, "the worker to log that it is ready")
        yield worker
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise AssertionError(f"worker ignored SIGTERM:\n{worker.log()}") from None
