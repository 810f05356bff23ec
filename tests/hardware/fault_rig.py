"""Devices, a time bound and a check against the simulator's truth, for test_faults*."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from hardware.device import DeviceEvent
from hardware.messages import DeviceKind
from hardware.records import device_key
from hardware.sim.device import VirtualDevice
from hardware.sim.models import LatencyModel, SimClock, TruthEvent
from hardware.sim.retransmit import Pending

T = TypeVar("T")
MS = 1_000_000
TICK_WRAP = 1 << 32
# Quicker than an FTDI bridge, so 10,000 events fit in a few seconds; still a real USB spread.
QUICK_USB = LatencyModel(0.3, 3.0)


def run_bounded(scenario: Callable[[], Coroutine[Any, Any, T]], timeout_s: float) -> T:
    """Run a scenario under one overall bound, so a broken driver fails instead of hanging."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout_s)

    return asyncio.run(bounded())


class CountingDevice(VirtualDevice):
    """A VirtualDevice that counts its retransmissions (an EVENT sent again), for reports."""

    resent = 0

    def _transmit_event(self, entry: Pending, now_ns: int) -> None:
        if entry.sends > 0:
            self.resent += 1
        super()._transmit_event(entry, now_ns)


def gate(device_id: int, seed: int, kind: DeviceKind = DeviceKind.GATE, **kw: Any) -> Any:
    """A device with its own clock (any 32-bit start, its own drift) and no STATUS chatter."""
    rng = random.Random(seed)
    clock = SimClock.random(rng, time.monotonic_ns())
    return CountingDevice(kind, device_id, clock=clock, status_period_s=60.0, seed=seed, **kw)


def key_of(device: VirtualDevice) -> str:
    return device_key(device.kind, device.device_id)


def check_against_truth(
    delivered: list[DeviceEvent], devices: list[VirtualDevice]
) -> dict[str, list[DeviceEvent]]:
    """Every truth event delivered exactly once, in order, each equal to its truth field by
    field; returns the delivered events per device key."""
    by_key: dict[str, list[DeviceEvent]] = defaultdict(list)
    for ev in delivered:
        by_key[ev.device].append(ev)
    for device in devices:
        key = key_of(device)
        truth = device.truth_since(0)
        got = by_key.get(key, [])
        ids = Counter((e.device, e.boot_id, e.seq) for e in got)
        doubled = sorted(k for k, n in ids.items() if n > 1)
        assert not doubled, f"{key}: delivered twice: {doubled[:10]}"
        want = {(key, device.boot_id, t.seq) for t in truth}
        missing = sorted(want - ids.keys())
        extra = sorted(ids.keys() - want)
        assert not missing, f"{key}: {len(missing)} event(s) missing, first {missing[:10]}"
        assert not extra, f"{key}: {len(extra)} event(s) that never happened: {extra[:10]}"
        assert [e.seq for e in got] == [t.seq for t in truth], f"{key}: not in evseq order"
        # Ticks are extended from 32 bits by the host and exactly by the simulator: they agree
        # modulo 2^32, and by one constant (the wraps before the host first heard the device).
        shift = got[0].ticks - truth[0].ticks if got else 0
        for ev, t in zip(got, truth, strict=True):
            assert_same_event(ev, t, device, shift)
    return by_key


def assert_same_event(ev: DeviceEvent, t: TruthEvent, device: VirtualDevice, shift: int) -> None:
    where = f"{ev.device} seq {ev.seq}"
    assert ev.boot_id == device.boot_id, where
    assert (ev.channel, ev.kind, ev.ref) == (t.channel, t.kind, t.ref), f"{where}: {ev} vs {t}"
    assert ev.ticks - t.ticks == shift and shift % TICK_WRAP == 0, f"{where}: {ev} vs {t}"
