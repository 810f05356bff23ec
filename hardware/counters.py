"""Extending wrapping counters (32-bit ticks, 16-bit sequence numbers) to unbounded integers."""

from __future__ import annotations


class Unwrapper:
    """Maps each new low-`bits` value to the nearest full value with those low bits.

    Correct as long as consecutive values are less than half the wrap apart. It only moves
    forward, so an old value replayed after newer ones cannot drag the reference back.
    """

    def __init__(self, bits: int) -> None:
        self._wrap = 1 << bits
        self._half = 1 << (bits - 1)
        self._last: int | None = None

    def extend(self, value: int) -> int:
        if self._last is None:
            self._last = value
            return value
        delta = (value - self._last) % self._wrap
        if delta >= self._half:
            delta -= self._wrap
        extended = self._last + delta
        self._last = max(self._last, extended)
        return extended
