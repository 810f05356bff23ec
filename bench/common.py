"""What the hardware-level benchmarks share: the simulated link, clock warm-up, CPU time.

Every benchmark here runs the real host (DevicePorts, PortSession, SerialLink) against virtual
devices on real pseudo-terminals, with the same knobs as the issue states them: USB latency
uniform from 1 ms to `jitter_ms` per frame, `spike_rate` of frames delayed a further 100 ms,
and device crystals drifting within +-`drift_ppm`. No database and no engine: these figures
are about what the hardware layer makes of time, not about the server around it.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from hardware.clock import CRYSTAL_TOLERANCE_PPM
from hardware.device_ports import DevicePorts
from hardware.sim.models import LatencyModel, SimClock

SPIKE_MS = 100.0
MIN_LATENCY_MS = 1.0
# Generous: a port carrying eight devices may need a few ping periods to fit all their rates.
SETTLE_TIMEOUT_S = 60.0


def latency_model(jitter_ms: float, spike_rate: float) -> LatencyModel:
    """USB delay per frame: uniform 1 ms .. jitter_ms, plus 100 ms on a `spike_rate` of them."""
    low = min(MIN_LATENCY_MS, jitter_ms)
    return LatencyModel(min_ms=low, max_ms=jitter_ms, spike_rate=spike_rate, spike_ms=SPIKE_MS)


def drifting_clock(rng: random.Random, drift_ppm: float) -> SimClock:
    """A device clock as a cheap crystal has one: any 32-bit start, drift within +-drift_ppm.

    Random 32-bit starts mean some counters wrap during a run, which the host must survive.
    """
    return SimClock(
        origin_ns=time.monotonic_ns(),
        offset_ticks=rng.getrandbits(32),
        drift_ppm=rng.uniform(-drift_ppm, drift_ppm),
    )


def rate_fitted(hub: DevicePorts, key: str) -> bool:
    """The device is ready and its rate comes from its own exchanges, not the crystal's spec."""
    state = hub.registry.by_key(key)
    if state is None or not state.ready:
        return False
    fit = state.clock.fit
    return fit is not None and fit.rate_error_ppm < CRYSTAL_TOLERANCE_PPM


async def wait_clocks(
    hub: DevicePorts,
    keys: Iterable[str],
    settle: bool,
    min_s: float = 0.0,
    timeout_s: float = SETTLE_TIMEOUT_S,
) -> float:
    """Wait until every device is ready (and, with `settle`, has a fitted rate), and at least
    `min_s`; returns the seconds waited.

    A coach plugs the gates in before the session, so timed runs start on settled clocks;
    without `settle` (smoke tests) only the protocol's readiness is awaited.
    """
    wanted = list(keys)
    started = time.monotonic()
    while True:
        states = [hub.registry.by_key(k) for k in wanted]
        if settle:
            done = all(rate_fitted(hub, k) for k in wanted)
        else:
            done = all(s is not None and s.ready for s in states)
        if done and time.monotonic() - started >= min_s:
            return time.monotonic() - started
        if not done and time.monotonic() - started > timeout_s:
            seen = ", ".join(
                f"{k}: {s.state if s else 'unseen'}" for k, s in zip(wanted, states, strict=True)
            )
            raise TimeoutError(f"clocks not settled after {timeout_s:.0f} s ({seen})")
        await asyncio.sleep(0.05)


def sync_errors_us(hub: DevicePorts, keys: Iterable[str]) -> list[float]:
    """Each device's current offset error bound, as the host states it."""
    out = []
    for key in keys:
        state = hub.registry.by_key(key)
        fit = None if state is None else state.clock.fit
        out.append(math.nan if fit is None else round(fit.error_bound_us, 1))
    return out


class ThreadCpu:
    """CPU time of the threads whose names start with a prefix (the simulator's port threads).

    The simulator runs in the benchmark's process, so process CPU time counts both sides; the
    port threads' own CPU clocks let a report split the simulator's share from the host's.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._start: dict[int, float] = {}

    def _clocks(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for thread in threading.enumerate():
            if thread.name.startswith(self.prefix) and thread.ident is not None:
                try:
                    clock_id = time.pthread_getcpuclockid(thread.ident)
                    out[thread.ident] = time.clock_gettime(clock_id)
                except (OSError, AttributeError):
                    continue  # the thread ended meanwhile, or the platform has no such clocks
        return out

    def start(self) -> None:
        self._start = self._clocks()

    def elapsed_s(self) -> float:
        """CPU seconds those threads used since start() (taken while they still run)."""
        now = self._clocks()
        return sum(now[t] - self._start.get(t, 0.0) for t in now)


def set_switch_interval(ms: float | None) -> float:
    """Optionally shorten how long Python lets one thread hold the GIL; returns the old value.

    The simulator shares the host's process, so a device thread that must answer a PING can
    wait up to the interval (5 ms by default) for the GIL: delay no real device adds. Figures
    are made with Python's default unless asked; the option shows how much is this artefact.
    """
    old = sys.getswitchinterval()
    if ms is not None:
        sys.setswitchinterval(ms / 1000)
    return old


JsonDict = dict[str, Any]
