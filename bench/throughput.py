"""Event throughput of the real host: many ports, a hub and gates on each, every edge counted.

Why: a squad on eight lanes with split gates sends bursts, and the host must deliver every
event exactly once without falling behind. Each port carries a hub (address 0) and gates
behind it (1..n-1); beam edges are offered at a fixed rate across all devices and the host's
DeviceEvents are counted against what the devices really sent (the simulator's truth).

CPU time is process time over the run divided by events delivered. The simulator's port
threads share the process, so the figure is also split: their own thread CPU clocks give the
simulator's share, the rest (event loop, serial reader threads) is the host's.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from bench.common import (
    JsonDict,
    ThreadCpu,
    drifting_clock,
    latency_model,
    set_switch_interval,
)
from bench.stats import summarize
from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.messages import DeviceKind, EventKind
from hardware.records import device_key
from hardware.sim.device import VirtualDevice
from hardware.sim.port import VirtualPort

PORT_PREFIX = "bench-load-"
FIRST_EDGE_LEAD_S = 0.3
DRAIN_S = 10.0
IDENTIFY_TIMEOUT_S = 20.0
DEVICE_BASE_ID = 0x7A00_0000


def _rig(
    ports: int, per_port: int, drift_ppm: float, jitter_ms: float, spike_rate: float,
    rng: random.Random,
) -> tuple[list[VirtualPort], list[VirtualDevice]]:  # fmt: skip
    vports, devices = [], []
    for p in range(ports):
        on_port = [
            VirtualDevice(
                DeviceKind.HUB if a == 0 else DeviceKind.GATE,
                DEVICE_BASE_ID + p * 32 + a,
                clock=drifting_clock(rng, drift_ppm),
                seed=rng.getrandbits(32),
            )
            for a in range(per_port)
        ]
        vports.append(
            VirtualPort(
                on_port,
                latency=latency_model(jitter_ms, spike_rate),
                seed=rng.getrandbits(32),
                name=f"{PORT_PREFIX}{p}",
            )
        )
        devices.extend(on_port)
    return vports, devices


def _offer(devices: list[VirtualDevice], events: int, rate: float, rng: random.Random) -> int:
    """Schedule `events` beam edges at `rate` per second in all, round-robin over devices,
    alternating broken and restored per device; returns the true time of the last one."""
    go_ns = time.monotonic_ns() + round(FIRST_EDGE_LEAD_S * 1e9)
    gap_ns = 1e9 / rate
    broken = [False] * len(devices)
    channels = [rng.randrange(2) for _ in devices]
    last = go_ns
    for n in range(events):
        i = n % len(devices)
        broken[i] = not broken[i]
        kind = EventKind.BEAM_BROKEN if broken[i] else EventKind.BEAM_RESTORED
        last = go_ns + round(n * gap_ns)
        devices[i].schedule_edge(channels[i], kind, last)
    return last


async def _bench(
    ports: int, per_port: int, events: int, rate: float, drift_ppm: float, jitter_ms: float,
    spike_rate: float, seed: int,
) -> JsonDict:  # fmt: skip
    rng = random.Random(seed)
    vports, devices = _rig(ports, per_port, drift_ppm, jitter_ms, spike_rate, rng)
    keys = {device_key(d.kind, d.device_id) for d in devices}
    delivered: list[DeviceEvent] = []
    hub = DevicePorts(delivered.append)
    sim_cpu = ThreadCpu(PORT_PREFIX)
    try:
        for port in vports:
            await hub.open(port.start())
        deadline = time.monotonic() + IDENTIFY_TIMEOUT_S
        while not all((s := hub.registry.by_key(k)) is not None and s.connected for k in keys):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not every device said HELLO in {IDENTIFY_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # let the startup pings and STATUS frames pass
        delivered.clear()
        cpu0, wall0 = time.process_time(), time.monotonic()
        sim_cpu.start()
        last_ns = _offer(devices, events, rate, rng)
        first_ns = last_ns - round((events - 1) * 1e9 / rate)
        drain_until = last_ns + round(DRAIN_S * 1e9)
        while len(delivered) < events and time.monotonic_ns() < drain_until:
            await asyncio.sleep(0.01)
        done_ns = delivered[-1].received_mono_us * 1000 if delivered else time.monotonic_ns()
        cpu_s, wall_s = time.process_time() - cpu0, time.monotonic() - wall0
        simulator_s = sim_cpu.elapsed_s()
        duplicates = sum(s.duplicates for s in hub.registry.all())
    finally:
        await hub.close_all()
        for port in vports:
            port.stop()
    sent = sum(len(d.truth_since(0)) for d in devices)
    suppressed = sum(len(d.suppressed_since(0)) for d in devices)
    unique = len({(e.device, e.boot_id, e.seq) for e in delivered})
    span_s = max(done_ns - first_ns, 1) / 1e9
    true_ns = {
        (device_key(d.kind, d.device_id), t.seq): t.mono_ns
        for d in devices
        for t in d.truth_since(0)
    }
    lag = summarize(
        ((e.received_mono_us * 1000 - true_ns[(e.device, e.seq)]) / 1e6
         for e in delivered if (e.device, e.seq) in true_ns),
        "events", digits=2, absolute=False,
    )  # fmt: skip
    n = max(len(delivered), 1)
    return {
        "events_offered": events,
        "events_sent": sent,
        "events_delivered": len(delivered),
        "events_unique": unique,
        "events_suppressed": suppressed,
        "events_per_s": round(len(delivered) / span_s, 1),
        "offered_per_s": rate,
        "cpu_us_per_event": {
            "total": round(cpu_s / n * 1e6, 1),
            "host": round((cpu_s - simulator_s) / n * 1e6, 1),
            "simulator": round(simulator_s / n * 1e6, 1),
        },
        # No lag to report (nothing delivered) is null, not NaN: the result is JSON.
        "delivery_lag_ms": {
            key: lag[f"{key}_ms"] if lag["events"] else None for key in ("p50", "p99", "max")
        },
        "duplicates_dropped": duplicates,
        "config": {
            "ports": ports,
            "devices_per_port": per_port,
            "devices": ports * per_port,
            "events": events,
            "rate": rate,
            "drift_ppm": drift_ppm,
            "jitter_ms": jitter_ms,
            "spike_rate": spike_rate,
            "seed": seed,
            "switch_interval_ms": round(sys.getswitchinterval() * 1000, 3),
        },
        "run": {"wall_s": round(wall_s, 2), "cpu_s": round(cpu_s, 2)},
    }


def run_throughput_bench(
    ports: int = 4,
    devices_per_port: int = 8,
    events: int = 15_000,
    rate: float = 6_000.0,
    drift_ppm: float = 200.0,
    jitter_ms: float = 1.0,
    spike_rate: float = 0.0,
    seed: int = 1,
    *,
    switch_interval_ms: float | None = None,
) -> JsonDict:
    """Offer `events` beam edges at `rate`/s over `ports` x `devices_per_port` devices.

    The default link is a fast one (1 ms per frame, no spikes) so the figure is the host's
    capacity; with the timing benchmark's 1-20 ms and spikes, device retransmissions dominate.
    """
    if not 1 <= devices_per_port <= 32 or ports < 1 or events < 1 or rate <= 0:
        raise ValueError("need ports >= 1, 1..32 devices per port, events >= 1 and rate > 0")
    old = set_switch_interval(switch_interval_ms)
    try:
        return asyncio.run(
            _bench(ports, devices_per_port, events, rate, drift_ppm, jitter_ms, spike_rate, seed)
        )
    finally:
        sys.setswitchinterval(old)
