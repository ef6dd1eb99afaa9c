"""On-demand misbehaviour for fakes: answer an error status, rate-limit, or hang."""

from __future__ import annotations

import threading
from dataclasses import dataclass

# Longer than any client timeout a test sets; a hang ends early when the fake is reset.
HANG_LIMIT_S = 30.0


@dataclass
class Fault:
    status: int = 500
    hang: bool = False
    retry_after_s: int | None = None
    # None: every request; otherwise only this many, then the path behaves again.
    times: int | None = None


class FaultTable:
    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self.release = threading.Event()

    def set(self, path: str, fault: Fault) -> None:
        with self._lock:
            self._faults[path] = fault

    def take(self, path: str) -> Fault | None:
        """The fault for this request, if any (counting it against ``times``)."""
        with self._lock:
            fault = self._faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[path]
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        # Let any hanging request finish, then arm the event again for the next test.
        self.release.set()
        self.release = threading.Event()


class InjectsFaults:
    """``fail`` and ``hang`` for a fake that keeps its faults in ``self.faults``."""

    faults: FaultTable

    def fail(
        self,
        path: str,
        status: int = 500,
        *,
        times: int | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        self.faults.set(path, Fault(status=status, times=times, retry_after_s=retry_after_s))

    def hang(self, path: str, *, times: int | None = None) -> None:
        self.faults.set(path, Fault(hang=True, times=times))
