"""What a simulated line does wrong, and the count of it: flipped bits, lost frames.

Kept apart from the port's plumbing so the fault knobs and their counters read in one place.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass
class PortStats:
    """What the faults did, so a test can check its knobs were really applied."""

    frames_up: int = 0
    frames_down: int = 0
    lost_up: int = 0
    lost_down: int = 0
    corrupted_up: int = 0
    corrupted_down: int = 0
    to_nobody: int = 0
    overflow_bytes: int = 0


class BitFlipper:
    """Flips one random bit in a byte with probability `rate`, drawing the gaps between hits
    (geometric) instead of one random number per byte, to stay cheap at thousands of frames."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._rate = 0.0
        self._gap = 0

    def apply(self, data: bytes, rate: float) -> bytes:
        if rate <= 0:
            return data
        if rate != self._rate:
            self._rate, self._gap = rate, self._draw(rate)
        if self._gap >= len(data):
            self._gap -= len(data)
            return data
        out = bytearray(data)
        pos = self._gap
        while pos < len(out):
            out[pos] ^= 1 << self.rng.randrange(8)
            pos += 1 + self._draw(rate)
        self._gap = pos - len(out)
        return bytes(out)

    def _draw(self, rate: float) -> int:
        if rate >= 1:
            return 0
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - rate))
