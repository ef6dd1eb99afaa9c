"""SIGTERM in bounded time: every live socket closed with 1001 at once, the process gone
within ``TUNEWAVE_SHUTDOWN_DEADLINE_S`` whatever its handlers are doing.

The server (uvicorn) handles SIGTERM itself: it stops accepting, closes WebSockets with
1012 and then waits for every connection and task, without a time limit by default. This
hook runs first: it closes the live sockets with 1001 (the documented "reconnect elsewhere
and resume"), hands the signal on to the server, and starts a watchdog thread that ends the
process once the deadline has passed (a thread, so that a blocked event loop cannot stop
it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)


def install_sigterm_hook(close_sockets: Callable[[], None], deadline_s: float) -> bool:
    """Chain a SIGTERM handler in front of the server's. False outside the main thread
    (signals cannot be caught there; the server's handling stays as it is)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    fired = threading.Event()

    def hand_on(signum: int, frame: FrameType | None) -> None:
        try:
            close_sockets()
        except Exception:
            logger.exception("live sockets not closed on SIGTERM")
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if fired.is_set():
            return
        fired.set()
        watchdog = threading.Thread(
            target=_exit_after, args=(deadline_s,), name="shutdown-deadline", daemon=True
        )
        watchdog.start()
        # Sockets belong to the event loop: close them there, then let the server go on.
        try:
            loop.call_soon_threadsafe(hand_on, signum, frame)
        except RuntimeError:
            hand_on(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True


def _exit_after(deadline_s: float, exit: Any = os._exit) -> None:
    threading.Event().wait(deadline_s)
    logger.error("shutdown deadline passed; exiting now", extra={"deadline_s": deadline_s})
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    exit(0)
