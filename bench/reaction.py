"""Reaction time and light onset accuracy: pods lit ahead by the host, touched by athletes.

Why: DESIGN.md says reaction time is touch minus onset on one device clock, and that a cue is
sent ahead with a target device time. This checks both against the simulator's truth: the
reaction time the host computes (hardware.cues.reaction_time_us) against the true touch minus
the true onset, and the light's onset against the host time it was asked for.

Two onset figures, because they answer different questions. `onset_device_truth` is when the
light really came on (simulator truth) minus the requested host time: what an athlete sees.
`onset_host_mapped` is the onset tick mapped back to host time by the clock fit, minus the
request: what the host believes, which shares the fit's error and so looks better than it is.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from bench.common import (
    JsonDict,
    drifting_clock,
    latency_model,
    set_switch_interval,
    wait_clocks,
)
from bench.stats import summarize
from hardware.cues import reaction_time_us
from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.errors import DeviceNotReady
from hardware.messages import Action, DeviceKind, EventKind
from hardware.records import device_key
from hardware.sim.athlete import make_team, touch_policy
from hardware.sim.device import VirtualDevice
from hardware.sim.port import VirtualPort
from hardware.timebase import mono_us

# How far ahead each light is planned: at least the protocol's 100 ms, as a drill's random
# foreperiod would be.
LEAD_MS = (150.0, 400.0)
REST_S = (0.1, 0.3)
LIGHT_MS = 1000
# Longer than any reaction (0.45 s) behind a few 100 ms spikes.
TOUCH_TIMEOUT_S = 5.0
POD_BASE_ID = 0x90D0_0000
DEFAULT_WARMUP_S = 10.0
NOT_READY_WAIT_S = 0.1


class _Pod:
    def __init__(self, device: VirtualDevice, port: VirtualPort) -> None:
        self.device = device
        self.port = port
        self.key = device_key(DeviceKind.POD, device.device_id)
        self.touches: list[DeviceEvent] = []
        self.touched = asyncio.Event()
        self.not_ready = 0


def _rig(
    ports: int, pods_per_port: int, drift_ppm: float, jitter_ms: float, spike_rate: float,
    rng: random.Random,
) -> tuple[list[VirtualPort], list[_Pod]]:  # fmt: skip
    """Pods at addresses 0.. of each port, each with its own crystal and its own athlete."""
    team = make_team(ports * pods_per_port, rng)
    vports: list[VirtualPort] = []
    pods: list[_Pod] = []
    for p in range(ports):
        devices = []
        for a in range(pods_per_port):
            n = p * pods_per_port + a
            devices.append(
                VirtualDevice(
                    DeviceKind.POD, POD_BASE_ID + n, clock=drifting_clock(rng, drift_ppm),
                    touch_after=touch_policy(team[n], random.Random(rng.getrandbits(32))),
                    seed=rng.getrandbits(32),
                )
            )  # fmt: skip
        port = VirtualPort(
            devices, latency=latency_model(jitter_ms, spike_rate), seed=rng.getrandbits(32),
            name=f"bench-pods-{p}",
        )  # fmt: skip
        vports.append(port)
        pods.extend(_Pod(d, port) for d in devices)
    return vports, pods


async def _drive(
    hub: DevicePorts, pod: _Pod, cues: int, rng: random.Random
) -> list[tuple[int, DeviceEvent, DeviceEvent]]:
    """Light one pod `cues` times; returns (requested host us, onset, touch) per cue."""
    out = []
    for _ in range(cues):
        while True:
            target_us = mono_us() + round(rng.uniform(*LEAD_MS) * 1000)
            try:
                onset_future = await hub.schedule_light(pod.key, 0, target_us, duration_ms=LIGHT_MS)
                break
            except DeviceNotReady:
                # The clock's error bound crossed the readiness line: wait as a drill would.
                pod.not_ready += 1
                await asyncio.sleep(NOT_READY_WAIT_S)
        onset = await asyncio.wait_for(onset_future, TOUCH_TIMEOUT_S)
        deadline = time.monotonic() + TOUCH_TIMEOUT_S
        while not any(t.seq > onset.seq for t in pod.touches):
            pod.touched.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{pod.key}: no touch after the light of cmd {onset.ref}")
            await asyncio.wait_for(pod.touched.wait(), remaining)
        touch = next(t for t in pod.touches if t.seq > onset.seq)
        out.append((target_us, onset, touch))
        await hub.send_command(pod.key, Action.DARK, 0)
        await asyncio.sleep(rng.uniform(*REST_S))
    return out


async def _bench(
    ports: int, pods_per_port: int, cues: int, drift_ppm: float, jitter_ms: float,
    spike_rate: float, seed: int, settle: bool, warmup_s: float,
) -> JsonDict:  # fmt: skip
    rng = random.Random(seed)
    vports, pods = _rig(ports, pods_per_port, drift_ppm, jitter_ms, spike_rate, rng)
    by_key = {p.key: p for p in pods}

    def listen(event: DeviceEvent) -> None:
        pod = by_key.get(event.device)
        if pod is not None and event.kind is EventKind.POD_TOUCHED:
            pod.touches.append(event)
            pod.touched.set()

    hub = DevicePorts(listen)
    try:
        for port in vports:
            await hub.open(port.start())
        waited_s = await wait_clocks(hub, list(by_key), settle, warmup_s)
        started = time.monotonic()
        shares = [cues // len(pods) + (i < cues % len(pods)) for i in range(len(pods))]
        lanes = [
            _drive(hub, pod, n, random.Random(rng.getrandbits(32)))
            for pod, n in zip(pods, shares, strict=True)
        ]
        results = await asyncio.gather(*lanes)
        duration_s = time.monotonic() - started
    finally:
        await hub.close_all()
        for port in vports:
            port.stop()
    reaction_ms: list[float] = []
    truth_onset_ms: list[float] = []
    mapped_onset_ms: list[float] = []
    reactions_s: list[float] = []
    for pod, cued in zip(pods, results, strict=True):
        true_ns = {t.seq: t.mono_ns for t in pod.device.truth_since(0)}
        for target_us, onset, touch in cued:
            onset_ns, touch_ns = true_ns[onset.seq], true_ns[touch.seq]
            true_us = (touch_ns - onset_ns) / 1000
            reactions_s.append(true_us / 1e6)
            reaction_ms.append((reaction_time_us(onset, touch) - true_us) / 1000)
            truth_onset_ms.append((onset_ns / 1000 - target_us) / 1000)
            if onset.mono_us is not None:
                mapped_onset_ms.append((onset.mono_us - target_us) / 1000)
    late = sum(1 for e in truth_onset_ms if e > 0)
    return {
        "reaction": summarize(reaction_ms, "cues"),
        "onset_device_truth": summarize(truth_onset_ms, "cues"),
        "onset_host_mapped": summarize(mapped_onset_ms, "cues"),
        "config": {
            "ports": ports,
            "pods_per_port": pods_per_port,
            "cues": cues,
            "drift_ppm": drift_ppm,
            "jitter_ms": jitter_ms,
            "spike_rate": spike_rate,
            "seed": seed,
            "settle": settle,
            "min_warmup_s": warmup_s,
            "lead_ms": list(LEAD_MS),
            "switch_interval_ms": round(sys.getswitchinterval() * 1000, 3),
        },
        "run": {
            "warmup_s": round(waited_s, 2),
            "duration_s": round(duration_s, 2),
            "reaction_range_s": [round(min(reactions_s), 3), round(max(reactions_s), 3)]
            if reactions_s
            else None,
            "onsets_after_target": late,
            "cues_refused_not_ready": sum(p.not_ready for p in pods),
        },
    }


def run_reaction_bench(
    ports: int = 8,
    pods_per_port: int = 1,
    cues: int = 240,
    drift_ppm: float = 200.0,
    jitter_ms: float = 20.0,
    spike_rate: float = 0.01,
    seed: int = 1,
    *,
    settle: bool = True,
    warmup_s: float = DEFAULT_WARMUP_S,
    switch_interval_ms: float | None = None,
) -> JsonDict:
    """Light pods `cues` times in all (spread over every pod, pods in parallel); see module doc."""
    if ports < 1 or pods_per_port < 1 or cues < 1:
        raise ValueError("ports, pods_per_port and cues must each be at least 1")
    old = set_switch_interval(switch_interval_ms)
    try:
        return asyncio.run(
            _bench(
                ports,
                pods_per_port,
                cues,
                drift_ppm,
                jitter_ms,
                spike_rate,
                seed,
                settle,
                warmup_s,
            )
        )
    finally:
        sys.setswitchinterval(old)
