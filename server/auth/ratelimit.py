"""Sign-in throttling per client address, with delays that grow with each failure.

Counted per address only, never per coach name: a count per name would let anyone on the
LAN keep the real coach out by guessing at the coach's name all session. The laptop that
runs the server is not throttled at all (server/auth/service.py): a delay there would
protect nothing, as the right password must still get through at once, and a process on the
laptop can read the database anyway.

Kept in memory: one server process guards one field, and a restart clearing the count is an
acceptable price for not writing every failed guess to the database. The table holds at most
MAX_ADDRESSES records; an IPv6 client counts as its /64, since one phone may pick a new
address in its network for every request.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from server.auth.forwarded import parse_address

# A coach's typos cost nothing: the first delay comes after this many failures in a row.
FREE_FAILURES = 3
# Then 1 s, 2 s, 4 s ... per further failure, up to a minute: about the old limit's pace (5
# guesses per 5 minutes) for a guesser, a short wait for a coach who keeps mistyping.
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0
# An address quiet for this long starts again from nothing.
FORGET_AFTER_S = 15 * 60.0
# Enough for every phone on a field many times over; a flood of new addresses pushes out the
# stalest records rather than the memory.
MAX_ADDRESSES = 4096


def delay_after_s(failures: int) -> float:
    """How long an address waits after `failures` failed sign-ins in a row."""
    if failures < FREE_FAILURES:
        return 0.0
    doublings = min(failures - FREE_FAILURES, 32)  # past the cap long before; no overflow
    return min(FIRST_DELAY_S * 2.0**doublings, MAX_DELAY_S)


def address_key(host: str | None) -> str:
    """What one client's failures are counted under: its IPv4 address, its IPv6 /64."""
    address = parse_address(host) if host else None
    if address is None:
        return host or "?"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Failures:
    count: int
    last_mono: float


class LoginThrottle:
    """Failed sign-ins per address, each further attempt held back by delay_after_s."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self._clock = clock
        self.max_addresses = max_addresses
        # Oldest failure first, so the stalest record is the one to forget.
        self._failures: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def _current(self, key: str, now: float) -> _Failures | None:
        found = self._failures.get(key)
        if found is not None and now - found.last_mono >= FORGET_AFTER_S:
            del self._failures[key]
            return None
        return found

    def _wait(self, found: _Failures | None, now: float) -> int:
        if found is None:
            return 0
        wait = found.last_mono + delay_after_s(found.count) - now
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def retry_after_s(self, host: str | None) -> int:
        """Seconds until this address may try again; 0 when it may now."""
        with self._lock:
            now = self._clock()
            return self._wait(self._current(address_key(host), now), now)

    def charge(self, host: str | None) -> int:
        """Counts an attempt as failed before the password is checked, so parallel guesses
        cannot slip past the delay; `clear` forgives it when the sign-in succeeds. Returns 0,
        or the seconds to wait (the attempt is then neither checked nor counted)."""
        key = address_key(host)
        with self._lock:
            now = self._clock()
            found = self._current(key, now)
            wait = self._wait(found, now)
            if wait:
                return wait
            if found is None:
                self._make_room(now)
                found = self._failures[key] = _Failures(0, now)
            found.count += 1
            found.last_mono = now
            self._failures.move_to_end(key)
        return 0

    def _make_room(self, now: float) -> None:
        while self._failures:
            oldest = next(iter(self._failures.values()))
            if now - oldest.last_mono < FORGET_AFTER_S and len(self._failures) < self.max_addresses:
                return
            self._failures.popitem(last=False)

    def clear(self, host: str | None) -> None:
        with self._lock:
            self._failures.pop(address_key(host), None)
