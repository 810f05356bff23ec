"""Plain models of the simulated world: device clocks, USB delay, and the recorded truth."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hardware.messages import Action, EventKind

# Drift of a cheap crystal, with temperature: the range a random device clock is drawn from.
MAX_DRIFT_PPM = 200.0


@dataclass(frozen=True)
class SimClock:
    """Device ticks as a function of true (host monotonic) time: offset plus drift."""

    origin_ns: int
    nominal_tick_hz: int = 1_000_000
    offset_ticks: int = 0
    drift_ppm: float = 80.0

    @property
    def _ticks_per_1e18_ns(self) -> int:
        # Integer arithmetic in parts per billion keeps the truth exact to the tick.
        return self.nominal_tick_hz * (10**9 + round(self.drift_ppm * 1000))

    def ticks_at(self, mono_ns: int) -> int:
        return self.offset_ticks + ((mono_ns - self.origin_ns) * self._ticks_per_1e18_ns) // 10**18

    def mono_at(self, ticks: int) -> int:
        """The first true time at which the counter reads `ticks`: when a timer set for it fires.

        ticks_at(mono_at(t)) == t exactly, so an action scheduled this way is stamped with the
        tick it was asked for, as an MCU timer compare interrupt would be.
        """
        scaled = (ticks - self.offset_ticks) * 10**18
        return self.origin_ns - (-scaled // self._ticks_per_1e18_ns)

    @classmethod
    def random(
        cls, rng: random.Random, origin_ns: int, nominal_tick_hz: int = 1_000_000
    ) -> SimClock:
        """A clock as an unknown device has one: any 32-bit start, drift within the crystal's."""
        return cls(
            origin_ns=origin_ns,
            nominal_tick_hz=nominal_tick_hz,
            offset_ticks=rng.getrandbits(32),
            drift_ppm=rng.uniform(-MAX_DRIFT_PPM, MAX_DRIFT_PPM),
        )


@dataclass(frozen=True)
class LatencyModel:
    """USB delivery delay per frame: uniform between the bounds (an FTDI bridge: 1 to 16 ms).

    A spike (probability `spike_rate` per frame) adds `spike_ms`, as a USB stall or a busy host
    controller does. The port keeps frames in order, so a spike delays every frame behind it.
    """

    min_ms: float = 1.0
    max_ms: float = 16.0
    spike_rate: float = 0.0
    spike_ms: float = 100.0

    def draw_ns(self, rng: random.Random) -> int:
        ms = rng.uniform(self.min_ms, self.max_ms)
        if self.spike_rate > 0 and rng.random() < self.spike_rate:
            ms += self.spike_ms
        return int(ms * 1e6)


@dataclass(frozen=True)
class TruthEvent:
    """What really happened: the true host time of an edge and the tick the device stamped.

    `seq` is the event number (evseq, not wrapped) the device gave it.
    """

    channel: int
    kind: EventKind
    mono_ns: int
    ticks: int
    seq: int
    ref: int = 0
    device_id: int = 0


@dataclass(frozen=True)
class TruthOnset:
    """A light or buzzer change caused by a command, against the tick it was asked for.

    `requested_ticks` is None when the command said NOW (for a late one it is the tick that had
    already passed; for an auto-dark, the tick its duration ends); `woke_ns` is when the
    simulator's thread really got to it (the EVENT frame waits for that; the tick does not).
    """

    channel: int
    kind: EventKind
    cmd_id: int
    requested_ticks: int | None
    actual_ticks: int
    mono_ns: int
    woke_ns: int


@dataclass(frozen=True)
class TruthSuppressed:
    """A beam edge the device saw but, by the protocol's rules, did not report."""

    channel: int
    kind: EventKind
    mono_ns: int
    ticks: int
    reason: str  # "disarmed" or "buffer_full"


@dataclass(frozen=True)
class TruthCommand:
    """A command the device received and what it answered."""

    cmd_id: int
    action: Action
    channel: int
    result: int
    received_ns: int
    repeat: bool
