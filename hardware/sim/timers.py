"""Callbacks due at true host times, run in order on a simulated port's thread.

Devices (their RTO, status and command timers) and the port itself (frames crossing the
UART) add to one queue from any thread; only the port's thread runs them.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable


class TimerQueue:
    """A heap of (due ns, insertion order, callback): equal times run in the order added."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._order = itertools.count()

    def add(self, due_ns: int, fn: Callable[[], None]) -> bool:
        """Queue `fn`; True if it is now the earliest, so a sleeping thread must wake."""
        with self._lock:
            head = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (due_ns, next(self._order), fn))
        return head is None or due_ns < head

    def next_due(self) -> int | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def run_due(self, now_ns: int, errors: list[BaseException]) -> None:
        """Run everything due by `now_ns`; a failing callback is kept in `errors`."""
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > now_ns:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception as exc:  # a bad hook must not kill the port: keep it for the test
                errors.append(exc)
