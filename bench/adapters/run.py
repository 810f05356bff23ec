"""The adapters benchmark in one call: open every rig, send its edges, check each event
(see bench/adapters/)."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict
from typing import Any, Final

from bench.adapters.bridge import Bridge
from bench.adapters.rigs import (
    CHRONOPIC_TARGET_US,
    TIMY_TARGET_US,
    AdaptersConfig,
    Rig,
    make_rigs,
    schedule_chronopic,
    schedule_timy,
)
from bench.adapters.samples import Samples, chronopic_samples, figures, timy_samples
from bench.common import JsonDict, latency_model
from bench.stats import round_all
from hardware.adapters.session import AdapterSession
from hardware.device_ports import DevicePorts
from hardware.records import DeviceEvent
from hardware.sim.timy import SimTimy

# Time for the first scheduled edge to lie in the future once every timer is set.
FIRST_EDGE_LEAD_S: Final = 1.0
# After the last edge: a Chronopic reports it a debounce later, a bridge holds it up to usb_ms.
DRAIN_S: Final = 5.0


async def _wait_events(
    rigs: list[Rig], by_device: dict[str, list[DeviceEvent]], deadline_ns: int
) -> None:
    while time.monotonic_ns() < deadline_ns:
        if all(len(by_device.get(r.key, [])) >= r.expected_events for r in rigs):
            return
        await asyncio.sleep(0.05)
    short = [
        f"{r.key}: {len(by_device.get(r.key, []))} of {r.expected_events}"
        for r in rigs
        if len(by_device.get(r.key, [])) < r.expected_events
    ]
    raise TimeoutError(f"events missing after the drain: {'; '.join(short)}")


async def _bench(cfg: AdaptersConfig) -> JsonDict:
    rng = random.Random(cfg.seed)
    rigs = make_rigs(cfg, rng)
    by_device: dict[str, list[DeviceEvent]] = {}
    hub = DevicePorts(lambda e: by_device.setdefault(e.device, []).append(e))
    latency = latency_model(cfg.usb_ms, 0.0)
    started = time.monotonic()
    try:
        for rig in rigs:
            path = rig.sim.start()
            if rig.link == "bridge":
                rig.bridge = Bridge(path, rig.baudrate, latency, rng.getrandbits(32))
                path = rig.bridge.start()
            session = await hub.open(rig.url(path))
            assert isinstance(session, AdapterSession) and session.state is not None
            rig.session, rig.key = session, session.state.key
        opened_s = time.monotonic() - started
        t0_us = time.monotonic_ns() // 1000 + round(FIRST_EDGE_LEAD_S * 1e6)
        for rig in rigs:
            schedule = schedule_chronopic if rig.kind == "chronopic" else schedule_timy
            schedule(rig, t0_us, cfg, rng)
        last_ns = max(r.last_edge_ns for r in rigs)
        await _wait_events(rigs, by_device, last_ns + round(DRAIN_S * 1e9))
        duration_s = time.monotonic() - started - opened_s
        stats = {r.key: dict(r.session.link_stats) for r in rigs if r.session is not None}
    finally:
        await hub.close_all()
        for rig in rigs:
            if rig.bridge is not None:
                rig.bridge.stop()
            rig.sim.stop()
    faults = [f"{r.key}: {e!r}" for r in rigs for e in r.sim.errors]
    faults += [f"{r.key} bridge: {e!r}" for r in rigs if r.bridge for e in r.bridge.errors]
    if faults:
        raise RuntimeError("simulator or bridge failed: " + "; ".join(faults))
    chronopic, timy = Samples(), Samples()
    for rig in rigs:
        events = sorted(by_device[rig.key], key=lambda e: e.seq)
        if rig.kind == "chronopic":
            chronopic_samples(rig, events, chronopic)
        else:
            timy_samples(rig, events, timy)
    chronopic_rigs = [r for r in rigs if r.kind == "chronopic"]
    timy_sims = [r.sim for r in rigs if isinstance(r.sim, SimTimy)]
    config = asdict(cfg) | {"usb_ms": [latency.min_ms, latency.max_ms]}
    result: JsonDict = {
        "chronopic": figures(chronopic, CHRONOPIC_TARGET_US)
        | {
            "devices": len(chronopic_rigs),
            "drifts_ppm": round_all(r.drift_ppm for r in chronopic_rigs),
            "passes": cfg.passes * len(chronopic_rigs),
        },
        "timy": figures(timy, TIMY_TARGET_US)
        | {
            "devices": len(timy_sims),
            "impulses": cfg.impulses * len(timy_sims),
            "overflow_bytes": sum(sim.overflow_bytes for sim in timy_sims),
        },
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "run": {
            "open_s": round(opened_s, 2),
            "duration_s": round(duration_s, 2),
            "link_stats": stats,
        },
    }
    result["targets"] = {
        "chronopic_split_p99": result["chronopic"]["target"],
        "timy_split_p99": result["timy"]["target"],
    }
    result["met"] = all(t["met"] for t in result["targets"].values())
    return result


def run_adapters_bench(
    chronopics: int = 12, passes: int = 25, impulses: int = 150, seed: int = 1, **knobs: Any
) -> JsonDict:
    """Time splits on simulated Chronopics and Timys through their adapters; see
    bench/adapters/. `knobs` are the other fields of AdaptersConfig."""
    cfg = AdaptersConfig(
        chronopics=chronopics, passes=passes, impulses=impulses, seed=seed, **knobs
    )
    cfg.check()
    return asyncio.run(_bench(cfg))
