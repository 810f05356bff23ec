"""Hot-plug: how long from a port appearing on the (simulated) USB bus to a device ready to time.

Why: a coach plugs a gate in at the side of the pitch and expects it on the devices page at
once. The watcher polls the port list (hardware.discovery.POLL_INTERVAL_S), opens what
matches by USB identity, and the device must then say HELLO and synchronise its clock. Each
trial starts a gate on a fresh pty, adds it to a SimPortLister, and times `identified` (its
HELLO reached the host) and `ready` (clock usable for cues and splits) through DevicePorts.watch.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from bench.common import JsonDict, drifting_clock, latency_model, set_switch_interval
from bench.stats import summarize
from hardware.device_ports import DevicePorts
from hardware.discovery import POLL_INTERVAL_S, PortMatcher
from hardware.messages import DeviceKind
from hardware.records import DeviceInfo, device_key
from hardware.sim.device import VirtualDevice
from hardware.sim.lister import SimPortLister
from hardware.sim.port import UsbIdentity, VirtualPort

USB = (0x1209, 0xA617)
TRIAL_TIMEOUT_S = 10.0
GATE_BASE_ID = 0x40C0_0000


async def _trial(
    hub: DevicePorts, lister: SimPortLister, identified: dict[str, float], n: int,
    drift_ppm: float, jitter_ms: float, spike_rate: float, rng: random.Random,
) -> tuple[float, float]:  # fmt: skip
    device = VirtualDevice(
        DeviceKind.GATE, GATE_BASE_ID + n, clock=drifting_clock(rng, drift_ppm),
        seed=rng.getrandbits(32),
    )  # fmt: skip
    key = device_key(DeviceKind.GATE, device.device_id)
    port = VirtualPort(
        [device], latency=latency_model(jitter_ms, spike_rate), seed=rng.getrandbits(32),
        usb=UsbIdentity(*USB, serial_number=f"HP{n:06d}"), name=f"bench-hotplug-{n}",
    )  # fmt: skip
    path = port.start()
    try:
        plugged = time.monotonic()
        lister.add(port)
        while True:
            state = hub.registry.by_key(key)
            if state is not None and state.ready:
                ready_s = time.monotonic() - plugged
                break
            if time.monotonic() - plugged > TRIAL_TIMEOUT_S:
                raise TimeoutError(f"{key} not ready {TRIAL_TIMEOUT_S:.0f} s after plug-in")
            await asyncio.sleep(0.002)
        return identified[key] - plugged, ready_s
    finally:
        lister.remove(port)
        port.stop()
        # Unplugged until the host has let go: a replug within one poll reuses the pty path.
        gone = time.monotonic() + TRIAL_TIMEOUT_S
        while path in hub.sessions and time.monotonic() < gone:
            await asyncio.sleep(0.02)


async def _bench(
    trials: int, drift_ppm: float, jitter_ms: float, spike_rate: float, seed: int,
    interval_s: float,
) -> JsonDict:  # fmt: skip
    rng = random.Random(seed)
    lister = SimPortLister()
    identified: dict[str, float] = {}

    def on_device(info: DeviceInfo) -> None:
        identified.setdefault(info.key, time.monotonic())

    hub = DevicePorts(lambda _event: None, on_device=on_device)
    hub.watch(PortMatcher([USB]), lister=lister.comports, interval_s=interval_s)
    results: list[tuple[float, float]] = []
    try:
        for n in range(trials):
            # A random moment in the poll cycle, as a real plug-in is.
            await asyncio.sleep(rng.uniform(0, interval_s))
            results.append(
                await _trial(hub, lister, identified, n, drift_ppm, jitter_ms, spike_rate, rng)
            )
    finally:
        await hub.close_all()
    return {
        "identified": summarize((r[0] * 1000 for r in results), "trials"),
        "ready": summarize((r[1] * 1000 for r in results), "trials"),
        "config": {
            "trials": trials,
            "drift_ppm": drift_ppm,
            "jitter_ms": jitter_ms,
            "spike_rate": spike_rate,
            "seed": seed,
            "poll_interval_s": interval_s,
            "switch_interval_ms": round(sys.getswitchinterval() * 1000, 3),
        },
    }


def run_hotplug_bench(
    trials: int = 10,
    drift_ppm: float = 200.0,
    jitter_ms: float = 20.0,
    spike_rate: float = 0.01,
    seed: int = 1,
    *,
    interval_s: float = POLL_INTERVAL_S,
    switch_interval_ms: float | None = None,
) -> JsonDict:
    """Plug a gate in `trials` times; median and max time to identified and to ready."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    old = set_switch_interval(switch_interval_ms)
    try:
        return asyncio.run(_bench(trials, drift_ppm, jitter_ms, spike_rate, seed, interval_s))
    finally:
        sys.setswitchinterval(old)
