"""Failed-login counting per name and per client address.

Kept in memory: one server process guards one field, and a restart clearing the count is an
acceptable price for not writing every failed guess to the database.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

MAX_FAILURES = 5
WINDOW_S = 300.0
_PRUNE_ABOVE = 10_000


class LoginAttempts:
    """A sliding window: a key is blocked while it has MAX_FAILURES failures younger than
    WINDOW_S, and is heard again as soon as the oldest of them leaves the window."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window_s:
            stamps.popleft()
        if not stamps:
            self._failures.pop(key, None)
        return stamps

    def retry_after_s(self, keys: Iterable[str]) -> int:
        """Seconds until every key may try again; 0 when none is blocked."""
        with self._lock:
            return self._wait(keys, self._clock())

    def _wait(self, keys: Iterable[str], now: float) -> int:
        wait = 0.0
        for key in keys:
            stamps = self._recent(key, now)
            if len(stamps) >= self.max_failures:
                oldest_that_blocks = stamps[-self.max_failures]
                wait = max(wait, oldest_that_blocks + self.window_s - now)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def charge(self, keys: Iterable[str]) -> int:
        """Count an attempt against every key before the password is checked, so parallel
        guesses cannot slip past the limit; `clear` forgives it when the login succeeds.
        Returns 0, or the seconds to wait (the attempt is then not counted)."""
        keys = list(keys)
        now = self._clock()
        with self._lock:
            if len(self._failures) > _PRUNE_ABOVE:  # many names guessed: drop the stale ones
                for old in list(self._failures):
                    self._recent(old, now)
            wait = self._wait(keys, now)
            if wait:
                return wait
            for key in keys:
                stamps = self._recent(key, now)
                stamps.append(now)
                self._failures[key] = stamps
        return 0

    def clear(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
