"""Split accuracy with start and finish on different devices, each with its own drifting clock.

Why this benchmark: a split between two gates is a difference of two device clocks, each
mapped to host time by its own fit (hardware/clock.py). Any offset or rate error of either fit
lands in the split, so this is the hardest timing case the product has. Beside it, the same
beam breaks timed by when their bytes reached the host, the naive method DESIGN.md forbids.

Lanes run at once and their runs overlap (an athlete sets off every 0.3-0.5 s), which is how a
squad trains and keeps the benchmark to about a minute. Host events are matched to runs by
each device's event number (evseq) against the simulator's truth, never by arrival order.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass

from bench.common import (
    JsonDict,
    drifting_clock,
    latency_model,
    set_switch_interval,
    sync_errors_us,
    wait_clocks,
)
from bench.stats import round_all, summarize
from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.messages import DeviceKind, EventKind
from hardware.records import device_key
from hardware.sim.athlete import make_team
from hardware.sim.device import VirtualDevice
from hardware.sim.port import VirtualPort

START_GAP_S = (0.3, 0.5)
COURSE_M = 10.0
# Time for the first scheduled run to be sure to lie in the future when the timers are set.
FIRST_RUN_LEAD_S = 0.5
# After the last finish: every event must be in by then, even behind a few 100 ms spikes.
DRAIN_S = 10.0
MIN_CLEAR_S = 0.06
GATE_BASE_ID = 0x6A7E_0000
# Gates are plugged in before a session: timing starts no sooner than this after power-up.
DEFAULT_WARMUP_S = 30.0


@dataclass
class _Run:
    lane: int
    start_ns: int
    finish_ns: int
    start_event: DeviceEvent | None = None
    finish_event: DeviceEvent | None = None


@dataclass
class _Gate:
    device: VirtualDevice
    port: VirtualPort
    key: str


def _gates(
    count: int, drift_ppm: float, jitter_ms: float, spike_rate: float, seed: int
) -> list[_Gate]:
    """One gate per port: each its own pty, its own crystal, its own USB delays."""
    rng = random.Random(seed)
    gates = []
    for i in range(count):
        device_id = GATE_BASE_ID + i
        device = VirtualDevice(
            DeviceKind.GATE, device_id, clock=drifting_clock(rng, drift_ppm), seed=seed * 1000 + i
        )
        port = VirtualPort(
            [device], latency=latency_model(jitter_ms, spike_rate), seed=rng.getrandbits(32),
            name=f"bench-timing-{i}",
        )  # fmt: skip
        gates.append(_Gate(device, port, device_key(DeviceKind.GATE, device_id)))
    return gates


def _schedule(lanes: list[tuple[_Gate, _Gate]], runs: int, rng: random.Random) -> list[_Run]:
    """Set every run's beam edges on the simulated gates, runs spread over the lanes."""
    team = make_team(8, rng)
    go_ns = time.monotonic_ns() + round(FIRST_RUN_LEAD_S * 1e9)
    lane_next = [go_ns + round(rng.uniform(0, START_GAP_S[1]) * 1e9) for _ in lanes]
    planned: list[_Run] = []
    for n in range(runs):
        lane = n % len(lanes)
        start_gate, finish_gate = lanes[lane]
        athlete = team[n % len(team)]
        backward = rng.random() < 0.5
        # Crossing times of the torso from its first movement; the first line is 0.3 m ahead.
        t_start, t_finish = athlete.crossing_times_s([0.0, COURSE_M], backward, rng)
        move_ns = lane_next[lane]
        lane_next[lane] += round(rng.uniform(*START_GAP_S) * 1e9)
        run = _Run(lane, move_ns + round(t_start * 1e9), move_ns + round(t_finish * 1e9))
        for gate, at_ns, t_s in (
            (start_gate, run.start_ns, t_start),
            (finish_gate, run.finish_ns, t_finish),
        ):
            clear_s = athlete.beam_clear_s(athlete.speed_at(t_s, backward))
            gate.device.schedule_edge(0, EventKind.BEAM_BROKEN, at_ns)
            gate.device.schedule_edge(
                0, EventKind.BEAM_RESTORED, at_ns + round(max(clear_s, MIN_CLEAR_S) * 1e9)
            )
        planned.append(run)
    return planned


def _match(planned: list[_Run], gates: list[_Gate], seen: list[DeviceEvent]) -> None:
    """Give each run its host events: (device, evseq) -> the device's truth -> the run."""
    by_time: dict[tuple[str, int], tuple[_Run, bool]] = {}
    for run in planned:
        lane = run.lane
        by_time[(gates[2 * lane].key, run.start_ns)] = (run, True)
        by_time[(gates[2 * lane + 1].key, run.finish_ns)] = (run, False)
    truth_ns = {(g.key, t.seq): t.mono_ns for g in gates for t in g.device.truth_since(0)}
    for event in seen:
        if event.kind is not EventKind.BEAM_BROKEN:
            continue
        true_ns = truth_ns.get((event.device, event.seq))
        hit = None if true_ns is None else by_time.get((event.device, true_ns))
        if hit is None:
            continue
        run, is_start = hit
        if is_start:
            run.start_event = event
        else:
            run.finish_event = event


async def _bench(
    devices: int, drift_ppm: float, jitter_ms: float, spike_rate: float, runs: int, seed: int,
    settle: bool, warmup_s: float,
) -> JsonDict:  # fmt: skip
    rng = random.Random(seed)
    gates = _gates(devices, drift_ppm, jitter_ms, spike_rate, rng.getrandbits(32))
    seen: list[DeviceEvent] = []
    hub = DevicePorts(seen.append)
    try:
        for gate in gates:
            await hub.open(gate.port.start())
        waited_s = await wait_clocks(hub, [g.key for g in gates], settle, warmup_s)
        lanes = [(gates[2 * i], gates[2 * i + 1]) for i in range(devices // 2)]
        started = time.monotonic()
        planned = _schedule(lanes, runs, rng)
        last_ns = max(r.finish_ns for r in planned)
        deadline_ns = last_ns + round(DRAIN_S * 1e9)
        while time.monotonic_ns() < deadline_ns:
            breaks = sum(e.kind is EventKind.BEAM_BROKEN for e in seen)
            if breaks >= 2 * runs and time.monotonic_ns() > last_ns:
                break
            await asyncio.sleep(0.05)
        duration_s = time.monotonic() - started
        _match(planned, gates, seen)
        sync_us = sync_errors_us(hub, [g.key for g in gates])
    finally:
        await hub.close_all()
        for gate in gates:
            gate.port.stop()
    complete = [r for r in planned if r.start_event and r.finish_event]
    clock_ms: list[float] = []
    receipt_ms: list[float] = []
    for run in complete:
        start, finish = run.start_event, run.finish_event
        assert start is not None and finish is not None
        true_us = (run.finish_ns - run.start_ns) / 1000
        if start.mono_us is not None and finish.mono_us is not None:
            clock_ms.append((finish.mono_us - start.mono_us - true_us) / 1000)
        receipt_ms.append((finish.received_mono_us - start.received_mono_us - true_us) / 1000)
    splits_s = [(r.finish_ns - r.start_ns) / 1e9 for r in planned]
    return {
        "device_clock": summarize(clock_ms, "runs"),
        "host_receipt": summarize(receipt_ms, "runs"),
        "config": {
            "devices": devices,
            "lanes": devices // 2,
            "drift_ppm": drift_ppm,
            "jitter_ms": jitter_ms,
            "spike_rate": spike_rate,
            "spike_ms": 100.0,
            "runs": runs,
            "seed": seed,
            "settle": settle,
            "min_warmup_s": warmup_s,
            "switch_interval_ms": round(sys.getswitchinterval() * 1000, 3),
        },
        "run": {
            "runs_planned": len(planned),
            "runs_matched": len(complete),
            "warmup_s": round(waited_s, 2),
            "duration_s": round(duration_s, 2),
            "split_range_s": [round(min(splits_s), 3), round(max(splits_s), 3)],
            "drifts_ppm": round_all(g.device.clock.drift_ppm for g in gates),
            "sync_error_bound_us": sync_us,
            "device_clock_mean_ms": round(sum(clock_ms) / len(clock_ms), 4) if clock_ms else None,
        },
    }


def run_timing_bench(
    devices: int = 8,
    drift_ppm: float = 200.0,
    jitter_ms: float = 20.0,
    spike_rate: float = 0.01,
    runs: int = 500,
    seed: int = 1,
    *,
    settle: bool = True,
    warmup_s: float = DEFAULT_WARMUP_S,
    switch_interval_ms: float | None = None,
) -> JsonDict:
    """Time `runs` splits between gates on different simulated devices; see the module doc.

    `devices` is even: lanes of a start gate and a finish gate, each gate on its own port.
    With `settle` (the default) timing starts once every clock has a fitted rate and at least
    `warmup_s` after the gates were plugged in.
    """
    if devices < 2 or devices % 2:
        raise ValueError(
            f"devices must be an even number >= 2 (start and finish per lane), got {devices}"
        )
    if runs < 1:
        raise ValueError("runs must be at least 1")
    old = set_switch_interval(switch_interval_ms)
    try:
        return asyncio.run(
            _bench(devices, drift_ppm, jitter_ms, spike_rate, runs, seed, settle, warmup_s)
        )
    finally:
        sys.setswitchinterval(old)
