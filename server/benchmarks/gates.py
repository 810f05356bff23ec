"""Which beam breaks time the torso: each gate rule against the torso's truth, per drill
direction and beam height, and how soon a rule that waits puts the split on the live feed.

Why (issue 14): a single beam is broken first by whatever reaches it first, a heel going
backward, a hand or a knee going forward. Longest-break and dual-beam (drills/crossing.py)
look for the torso among a pass's edges; this benchmark says how close they come, next to
first-break in the same crossings.

Crossings: virtual athletes with bodies (hardware/sim/body.py: published anthropometry and gait
kinematics) cross a gate at a drawn speed, `crossings` times per drill kind: backward runs,
lateral shuffles, forward sprints, and retro walking. Every crossing is simulated once at all
the swept beam heights, so each rule and height sees the same bodies and strides. Its edges
go through a real CrossingDetector per rule: first-break (the baseline) and longest-break (the
default window) on one beam, dual-beam on a pair. Error: the crossing's stamp minus the
torso's truth (its leading surface at the gate plane).

Also per crossing:
- `merged`: on a single beam, the torso's own break is part of one break that a limb began
  (a forearm ahead of the chest), so no rule that reads one beam's edges can find the torso's
  start; `single-beam limit` is the error of the best such rule (that merged break's start).
- for dual-beam, whether both beams were broken before the torso, and by which parts.
- `extra`: crossings a rule found after the first within one pass (a slow walker's trailing
  leg after the re-arm): a shuttle would count them.

The crossings are pure (no clock, no I/O; seeded per batch, so the figures do not depend on
how many worker processes share them). The live part is not: simulated hubs through the real
driver, coordinator, recorder and LiveHub, longest-break on every gate, timing each split's
arrival on the feed against the moment its window closed (the true first break + the window).
Target: within 100 ms of it (issue 14, point 4).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any, Final

from drills import Drill, RunState
from drills.crossing import (
    DEFAULT_REARM_US,
    DEFAULT_WINDOW_US,
    LATE_EDGE_US,
    BeamEdge,
    CrossingDetector,
    Detected,
    GateRule,
    Trigger,
)
from drills.timing import Stamp
from hardware.link import mono_us
from hardware.messages import EventKind
from hardware.sim.athlete import make_team
from hardware.sim.body import (
    DUAL_BEAM_HEIGHTS_M,
    SINGLE_BEAM_HEIGHT_M,
    Body,
    Crossing,
    Pass,
    simulate_pass,
)
from hardware.sim.gait import Direction
from server.benchmarks.common import JsonDict, percentile
from server.body_passes import EdgeScheduler
from server.catalog.service import Catalog
from server.db.session import make_engine, migrate
from server.devices.service import DeviceManager
from server.live.hub import LiveHub
from server.runs.coordinator import RunCoordinator
from server.runs.recorder import RunRecorder
from server.simulation import SimRig, plan_rep

# Drill kinds: the body's direction of travel and the speeds at the gate, drawn uniformly.
KINDS: Final[dict[str, tuple[Direction, tuple[float, float]]]] = {
    "backward": ("backward", (2.0, 6.0)),  # backward runs: 10-20 m, backpedals
    "lateral": ("lateral", (1.5, 4.0)),  # side shuffles
    "forward": ("forward", (3.0, 9.0)),  # sprints, from the first gate to flying ones
    "retro-walk": ("backward", (0.6, 1.5)),  # backward walking (rehabilitation, warm-ups)
}
# The kinds issue 14 sets targets for, and the targets (p95 of |error|, ms).
TARGET_KINDS: Final = ("backward", "lateral")
RUNNING_KINDS: Final = ("backward", "lateral", "forward")
LONGEST_P95_TARGET_MS: Final = 5.0
DUAL_P95_TARGET_MS: Final = 2.0
LATENCY_TARGET_MS: Final = 100.0  # publication after the window closed
# The swept beam heights; every pair of them 0.2-0.5 m apart is a dual-beam pair.
HEIGHTS_M: Final = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)
PAIR_SPACING_M: Final = (0.2, 0.5)
# A crossing stamped this much before the truth was not the torso's: the body model bisects
# each edge to 1 µs.
BEFORE_TORSO_US: Final = 5
TRUTH_S: Final = 100.0
CHUNK: Final = 50  # crossings per job handed to a worker


def _pairs() -> tuple[tuple[float, float], ...]:
    """(top, bottom) pairs from HEIGHTS_M, 0.2-0.5 m apart."""
    low, high = PAIR_SPACING_M
    return tuple(
        (top, bottom)
        for bottom, top in combinations(HEIGHTS_M, 2)
        if low - 1e-9 <= top - bottom <= high + 1e-9
    )


PAIRS_M: Final = _pairs()
DEFAULT_PAIR_M: Final = (max(DUAL_BEAM_HEIGHTS_M), min(DUAL_BEAM_HEIGHTS_M))


@dataclass(frozen=True)
class GatesConfig:
    """What one run simulates (defaults: the figures in docs/BENCHMARKS.md)."""

    crossings: int = 1000  # per drill kind
    window_ms: int = DEFAULT_WINDOW_US // 1000
    rearm_ms: int = DEFAULT_REARM_US // 1000
    workers: int = 0  # processes for the crossings; 0: one per CPU
    live_lanes: int = 4  # simulated hubs at once, each a lane of its own
    live_reps: int = 5  # reps per lane
    seed: int = 1

    def check(self) -> None:
        if self.crossings < 1 or self.workers < 0 or self.live_lanes < 0 or self.live_reps < 0:
            raise ValueError("need crossings >= 1 and workers, lanes, reps >= 0")
        GateRule(Trigger.LONGEST_BREAK, self.window_ms * 1000, self.rearm_ms * 1000)


# --- one crossing, every rule -------------------------------------------------------------


@dataclass(frozen=True)
class _Single:
    """One beam at one height: what each rule made of it."""

    first_us: int | None  # crossing - truth; None: no crossing found
    first_extra: int  # further crossings first-break found in the same pass
    longest_us: int | None
    longest_extra: int  # further crossings longest-break found in the same pass
    limit_us: int | None  # start of the break holding the torso's start; None: no torso here
    merged_with: str | None  # the limb that began that break, when one did


@dataclass(frozen=True)
class _Dual:
    dual_us: int | None
    extra: int
    before_torso: str | None  # "top part / bottom part" when both were limbs'


@dataclass(frozen=True)
class _Record:
    kind: str
    speed_mps: float
    singles: tuple[_Single, ...]  # per HEIGHTS_M
    duals: tuple[_Dual, ...]  # per PAIRS_M


def _us(t_s: float) -> int:
    """Absolute seconds of the simulation to µs from the truth."""
    return round((t_s - TRUTH_S) * 1e6)


def _stamp(rel_us: int) -> Stamp:
    mono = round(TRUTH_S * 1e6) + rel_us
    return Stamp(mono_us=mono, clock="sim", ticks=mono, tick_hz=1e6)


def _part(name: str) -> str:
    """right_upper_arm -> upper arm: which side does not matter to a beam."""
    for side in ("right_", "left_", "lead_", "trail_"):
        if name.startswith(side):
            name = name[len(side) :]
    return name.replace("_", " ")


def _parts(parts: Iterable[str]) -> str:
    return "+".join(sorted({_part(p) for p in parts if p != "torso"})) or "torso"


def _run(rule: GateRule, edges: Sequence[tuple[int, int, bool]]) -> list[Detected]:
    """Every crossing a detector finds in one pass's edges (rel µs, beam, broken)."""
    detector = CrossingDetector(rule)
    found: list[Detected] = []
    for at_us, beam, broken in edges:
        found += detector.edge(BeamEdge(beam, broken, _stamp(at_us)))
    return found + detector.flush()


def _error(found: list[Detected]) -> int | None:
    return found[0].at.mono_us - round(TRUTH_S * 1e6) if found else None


def _beam_edges(crossing: Crossing, index: int, beam: int) -> list[tuple[int, int, bool]]:
    out = []
    for interval in crossing.beams[index].intervals:
        out += [(_us(interval.start_s), beam, True), (_us(interval.end_s), beam, False)]
    return out


def _single(crossing: Crossing, index: int, first: GateRule, longest: GateRule) -> _Single:
    record = crossing.beams[index]
    edges = _beam_edges(crossing, index, 0)
    by_first, by_longest = _run(first, edges), _run(longest, edges)
    limit_us, merged_with = None, None
    if record.torso is not None:
        torso_start = record.torso[0]
        slack = BEFORE_TORSO_US / 1e6  # the two are bisected apart, each to 1 µs
        holding = min(
            (i for i in record.intervals if i.start_s - slack <= torso_start <= i.end_s + slack),
            key=lambda i: i.start_s,
        )
        limit_us = _us(holding.start_s)
        if _us(torso_start) - limit_us > BEFORE_TORSO_US:
            merged_with = _parts(crossing.covering(holding.start_s + 1e-6, record.height_m))
    return _Single(
        _error(by_first), max(0, len(by_first) - 1), _error(by_longest),
        max(0, len(by_longest) - 1), limit_us, merged_with,
    )  # fmt: skip


def _dual(crossing: Crossing, top: int, bottom: int, rule: GateRule) -> _Dual:
    edges = sorted(_beam_edges(crossing, top, 0) + _beam_edges(crossing, bottom, 1))
    found = _run(rule, edges)
    error = _error(found)
    before = None
    if error is not None and error < -BEFORE_TORSO_US:
        at_s = TRUTH_S + error / 1e6 + 1e-6
        top_parts = crossing.covering(at_s, crossing.beams[top].height_m)
        bottom_parts = crossing.covering(at_s, crossing.beams[bottom].height_m)
        before = f"{_parts(top_parts)} / {_parts(bottom_parts)}"
    return _Dual(error, max(0, len(found) - 1), before)


def _simulate(job: tuple[str, int, int, int, int, int]) -> list[_Record]:
    """One worker's share: `count` crossings of one drill kind, seeded by the job alone, so
    the figures do not depend on how many workers there are."""
    kind, seed, chunk, count, window_us, rearm_us = job
    direction, (low, high) = KINDS[kind]
    rng = random.Random(f"gates:{seed}:{kind}:{chunk}")
    first = GateRule(Trigger.FIRST_BREAK, rearm_us=rearm_us)
    longest = GateRule(Trigger.LONGEST_BREAK, window_us, rearm_us)
    dual = GateRule(Trigger.DUAL_BEAM, rearm_us=rearm_us)
    index = {h: i for i, h in enumerate(HEIGHTS_M)}
    out = []
    for _ in range(count):
        body = Body.sample(rng)
        speed = rng.uniform(low, high)
        crossing = simulate_pass(body, Pass(direction, speed, TRUTH_S), HEIGHTS_M, rng)
        singles = tuple(_single(crossing, i, first, longest) for i in range(len(HEIGHTS_M)))
        duals = tuple(_dual(crossing, index[t], index[b], dual) for t, b in PAIRS_M)
        out.append(_Record(kind, speed, singles, duals))
    return out


def _crossings(cfg: GatesConfig) -> list[_Record]:
    jobs = [
        (kind, cfg.seed, chunk, min(CHUNK, cfg.crossings - chunk * CHUNK),
         cfg.window_ms * 1000, cfg.rearm_ms * 1000)
        for kind in KINDS
        for chunk in range(math.ceil(cfg.crossings / CHUNK))
    ]  # fmt: skip
    workers = cfg.workers or os.cpu_count() or 1
    if workers == 1:
        return [r for job in jobs for r in _simulate(job)]
    with ProcessPoolExecutor(workers) as pool:
        return [r for chunk in pool.map(_simulate, jobs) for r in chunk]


# --- figures ------------------------------------------------------------------------------


def _stats(errors_us: Sequence[int | None]) -> JsonDict:
    """p50, p95 and max of |error| in ms, nearest rank; a pass with no crossing counts as an
    infinite error (a p95 of None: more than 5 % found nothing)."""
    ordered = sorted(math.inf if e is None else abs(e) / 1000 for e in errors_us)

    def ms(value: float) -> float | None:
        return None if math.isinf(value) else round(value, 3)

    signed = [e / 1000 for e in errors_us if e is not None]
    return {
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p95_ms": ms(percentile(ordered, 0.95)),
        "max_ms": ms(ordered[-1]) if ordered else None,
        "mean_signed_ms": round(sum(signed) / len(signed), 3) if signed else None,
        "crossings": len(ordered),
        "missed": sum(e is None for e in errors_us),
    }


def _share(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else math.nan


def _top(counter: Counter[str], total: int, n: int = 4) -> list[list[Any]]:
    return [[name, _share(c, total)] for name, c in counter.most_common(n)]


def _single_figures(records: Sequence[_Record], index: int) -> JsonDict:
    singles = [r.singles[index] for r in records]
    merged = Counter(s.merged_with for s in singles if s.merged_with is not None)
    n = len(singles)
    return {
        "height_m": HEIGHTS_M[index],
        "first_break": _stats([s.first_us for s in singles]),
        "longest_break": _stats([s.longest_us for s in singles]),
        "single_beam_limit": _stats([s.limit_us for s in singles]),
        "first_extra_pct": _share(sum(s.first_extra > 0 for s in singles), n),
        "longest_extra_pct": _share(sum(s.longest_extra > 0 for s in singles), n),
        "merged_pct": _share(sum(merged.values()), n),
        "merged_with": _top(merged, n),
        "no_torso_pct": _share(sum(s.limit_us is None for s in singles), n),
    }


def _dual_figures(records: Sequence[_Record], index: int) -> JsonDict:
    duals = [r.duals[index] for r in records]
    before = Counter(d.before_torso for d in duals if d.before_torso is not None)
    n = len(duals)
    top, bottom = PAIRS_M[index]
    return {
        "heights_m": [top, bottom],
        "dual_beam": _stats([d.dual_us for d in duals]),
        "before_torso_pct": _share(sum(before.values()), n),
        "before_torso_by": _top(before, n),
        "extra_pct": _share(sum(d.extra > 0 for d in duals), n),
    }


def _best(rows: Sequence[JsonDict], figure: str) -> JsonDict:
    """The row whose figure has the lowest p95 (a missing p95 is worst), then lowest p50."""

    def key(row: JsonDict) -> tuple[float, float]:
        s = row[figure]
        return (
            math.inf if s["p95_ms"] is None else s["p95_ms"],
            math.inf if s["p50_ms"] is None else s["p50_ms"],
        )

    return min(rows, key=key)


def _kind_figures(records: Sequence[_Record]) -> JsonDict:
    singles = [_single_figures(records, i) for i in range(len(HEIGHTS_M))]
    duals = [_dual_figures(records, i) for i in range(len(PAIRS_M))]
    default_single = singles[HEIGHTS_M.index(SINGLE_BEAM_HEIGHT_M)]
    default_dual = duals[PAIRS_M.index(DEFAULT_PAIR_M)]
    speeds = [r.speed_mps for r in records]
    return {
        "crossings": len(records),
        "speed_mps": [round(min(speeds), 2), round(max(speeds), 2)] if speeds else [],
        "default": {"single": default_single, "dual": default_dual},
        "sweep": {"single": singles, "dual": duals},
        "best": {
            "longest_break": _best(singles, "longest_break")["height_m"],
            "first_break": _best(singles, "first_break")["height_m"],
            "dual_beam": _best(duals, "dual_beam")["heights_m"],
        },
    }


def _p95_ok(stats: JsonDict, limit_ms: float) -> bool:
    return stats["p95_ms"] is not None and stats["p95_ms"] <= limit_ms


def _targets(kinds: JsonDict, live: JsonDict | None) -> JsonDict:
    targets: JsonDict = {}
    for kind in TARGET_KINDS:
        default = kinds[kind]["default"]
        for name, stats, limit in (
            ("longest_break", default["single"]["longest_break"], LONGEST_P95_TARGET_MS),
            ("dual_beam", default["dual"]["dual_beam"], DUAL_P95_TARGET_MS),
        ):
            targets[f"{kind}_{name}_p95"] = {
                "p95_ms": limit, "measured_p95_ms": stats["p95_ms"],
                "met": _p95_ok(stats, limit),
            }  # fmt: skip
    if live is not None and live["after_window"]["splits"]:
        after = live["after_window"]
        targets["live_after_window"] = {
            "max_ms": LATENCY_TARGET_MS,
            "measured_max_ms": after["max_ms"],
            "met": after["max_ms"] <= LATENCY_TARGET_MS,
        }
    return targets


def run_crossings(cfg: GatesConfig) -> JsonDict:
    """The pure part: every drill kind's crossings through every rule and height."""
    started = time.monotonic()
    records = _crossings(cfg)
    kinds = {kind: _kind_figures([r for r in records if r.kind == kind]) for kind in KINDS}
    return {"kinds": kinds, "duration_s": round(time.monotonic() - started, 1)}


# --- live: how soon a longest-break split reaches the feed --------------------------------

LIVE_DRILLS: Final = ("backward-sprint-20m", "sprint-20m")  # lanes take them in turn
# Between reps: the trailing limbs leave the last beam, then the next rep is armed.
REST_S: Final = 0.6
REP_TIMEOUT_S: Final = 30.0


class _Recording:
    """Passes a rep's edges to the simulated hub and keeps the true time of every break."""

    def __init__(self, hub: EdgeScheduler) -> None:
        self.hub = hub
        self.breaks_ns: dict[int, list[int]] = {}

    def schedule_edge(self, channel: int, kind: EventKind, at_ns: int, /) -> None:
        if kind is EventKind.BEAM_BROKEN:
            self.breaks_ns.setdefault(channel, []).append(at_ns)
        self.hub.schedule_edge(channel, kind, at_ns)


@dataclass
class _LiveRep:
    run_id: int | None
    finished: bool
    first_break_ns: dict[str, int]  # role -> the true first break of its crossing
    drill: Drill


@dataclass
class _Feed:
    """A page on the live feed: when each split message reached its queue."""

    splits: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (mono µs, msg)

    async def read(self, queue: asyncio.Queue[str | None]) -> None:
        while (text := await queue.get()) is not None:
            arrived = mono_us()
            message = json.loads(text)
            if message.get("type") == "split":
                self.splits.append((arrived, message))


async def _lane(recorder: RunRecorder, cfg: GatesConfig, lane: int, drill: Drill) -> list[_LiveRep]:
    """One hub and one athlete doing `live_reps` reps, longest-break on every gate."""
    coordinator = RunCoordinator(recorder, layout={})
    devices = DeviceManager(coordinator.on_device_event)
    rig = await SimRig.start(devices, drill, seed=cfg.seed * 1000 + lane, bodies=True)
    coordinator.layout.update(
        {
            role: replace(b, trigger=Trigger.LONGEST_BREAK, window_ms=cfg.window_ms,
                          rearm_ms=cfg.rearm_ms)
            for role, b in rig.layout.items()
        }
    )  # fmt: skip
    rng = random.Random(f"gates-live:{cfg.seed}:{lane}")
    athlete = make_team(1, rng)[0]
    athlete_id = recorder.ensure_athlete(recorder.ensure_team("Gates"), f"{athlete.name} {lane}")
    reps = []
    try:
        for rep in range(1, cfg.live_reps + 1):
            done = coordinator.begin(drill, athlete_id, athlete.name, rep, start_within_s=5.0)
            edges = _Recording(rig.hub)
            plan_rep(edges, drill, rig.layout, athlete, rng, lead_s=0.1, bodies=True)
            outcome = await asyncio.wait_for(done, REP_TIMEOUT_S)
            first = {
                role: min(edges.breaks_ns[b.channel])
                for role, b in rig.layout.items()
                if b.channel in edges.breaks_ns
            }
            finished = outcome.state is RunState.FINISHED
            reps.append(_LiveRep(coordinator.last_run_id, finished, first, drill))
            await asyncio.sleep(REST_S)
    finally:
        await devices.close_all()
        rig.stop()
    return reps


def _live_figures(cfg: GatesConfig, reps: list[_LiveRep], feed: _Feed) -> JsonDict:
    by_run = {r.run_id: r for r in reps if r.run_id is not None}
    after_us, after_first_us = [], []
    for arrived_us, message in feed.splits:
        rep = by_run.get(int(message.get("run_id") or 0))
        if rep is None:
            continue
        segment = next(s for s in rep.drill.segments if s.name == message["split"])
        first_ns = rep.first_break_ns.get(segment.to_role)
        if first_ns is None:
            continue
        after_first_us.append(arrived_us - first_ns / 1000)
        after_us.append(arrived_us - first_ns / 1000 - cfg.window_ms * 1000)
    after = _signed_stats(after_us)
    return {
        "lanes": cfg.live_lanes,
        "reps": len(reps),
        "reps_finished": sum(r.finished for r in reps),
        "drills": sorted({r.drill.slug for r in reps}),
        "after_window": after,
        "after_first_break": _signed_stats(after_first_us),
        "late_edge_wait_ms": LATE_EDGE_US / 1000,
    }


def _signed_stats(values_us: Sequence[float]) -> JsonDict:
    """p50, p95 and max (and min) of signed values in ms; nearest rank."""
    ordered = sorted(v / 1000 for v in values_us)
    return {
        "min_ms": round(ordered[0], 3) if ordered else math.nan,
        "p50_ms": round(percentile(ordered, 0.50), 3),
        "p95_ms": round(percentile(ordered, 0.95), 3),
        "max_ms": round(ordered[-1], 3) if ordered else math.nan,
        "splits": len(ordered),
    }


async def _live_bench(cfg: GatesConfig) -> JsonDict:
    started = time.monotonic()
    catalog = Catalog.load()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "gates.db")
        migrate(db)
        engine = make_engine(db)
        catalog.sync(engine)
        hub = LiveHub()
        feed = _Feed()
        queue = hub.subscribe()
        reader = asyncio.create_task(feed.read(queue))
        recorder = RunRecorder(engine, hub)
        try:
            lanes = await asyncio.gather(
                *(
                    _lane(recorder, cfg, lane, catalog.get(LIVE_DRILLS[lane % len(LIVE_DRILLS)]))
                    for lane in range(cfg.live_lanes)
                )
            )
            await asyncio.sleep(0.1)  # the last messages through the queue
        finally:
            queue.put_nowait(None)
            await reader
            engine.dispose()
    out = _live_figures(cfg, [r for lane in lanes for r in lane], feed)
    out["duration_s"] = round(time.monotonic() - started, 1)
    return out


def run_gates_bench(
    crossings: int = GatesConfig.crossings, seed: int = 1, **knobs: Any
) -> JsonDict:
    """Every rule against the torso's truth, the height sweep, and the live latency; see the
    module doc. `knobs` are the other fields of GatesConfig."""
    cfg = GatesConfig(crossings=crossings, seed=seed, **knobs)
    cfg.check()
    result = run_crossings(cfg)
    live = None
    if cfg.live_lanes and cfg.live_reps:
        live = asyncio.run(_live_bench(cfg))
    result["live"] = live
    result["config"] = {
        "crossings": cfg.crossings,
        "kinds": {k: {"direction": d, "speed_mps": list(s)} for k, (d, s) in KINDS.items()},
        "window_ms": cfg.window_ms,
        "rearm_ms": cfg.rearm_ms,
        "heights_m": list(HEIGHTS_M),
        "pairs_m": [list(p) for p in PAIRS_M],
        "default_single_m": SINGLE_BEAM_HEIGHT_M,
        "default_pair_m": list(DEFAULT_PAIR_M),
        "live_lanes": cfg.live_lanes,
        "live_reps": cfg.live_reps,
        "seed": cfg.seed,
    }
    result["targets"] = _targets(result["kinds"], live)
    result["met"] = all(t["met"] for t in result["targets"].values())
    return result


# --- the report ---------------------------------------------------------------------------

LABELS: Final = {
    "backward": "Backward runs",
    "lateral": "Lateral shuffles",
    "forward": "Forward sprints",
    "retro-walk": "Retro walking",
}
RULE_WORDS: Final = {
    "first_break": "first-break",
    "longest_break": "longest-break",
    "dual_beam": "dual-beam",
}


def _met(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def _ms(value: float | None) -> str:
    return "–" if value is None or math.isinf(value) else f"{value:.1f}"


def _m(height: float) -> str:
    return f"{height:.1f} m"


def _heights(pair: Sequence[float]) -> str:
    return f"{pair[1]:.1f} + {pair[0]:.1f} m"


def _speeds(kind: str) -> str:
    low, high = KINDS[kind][1]
    return f"{low:g}-{high:g} m/s"


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False)


def _default_table(r: JsonDict) -> str:
    cfg = r["config"]
    out = [
        "| drill | rule | crossings | p50 (ms) | p95 (ms) | max (ms) | missed | extra crossings |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, k in r["kinds"].items():
        single, dual = k["default"]["single"], k["default"]["dual"]
        rows = [
            (f"first-break, {_m(cfg['default_single_m'])} (baseline)", single["first_break"],
             single["first_extra_pct"]),
            (f"longest-break, {_m(cfg['default_single_m'])}, {cfg['window_ms']} ms window",
             single["longest_break"], single["longest_extra_pct"]),
            ("single-beam limit (the torso's merged break)", single["single_beam_limit"], None),
            (f"dual-beam, {_heights(cfg['default_pair_m'])}", dual["dual_beam"],
             dual["extra_pct"]),
        ]  # fmt: skip
        for i, (rule, s, extra) in enumerate(rows):
            drill = f"{LABELS[kind]}, {_speeds(kind)}" if i == 0 else ""
            extra_cell = "" if extra is None else f"{extra:g} %"
            out.append(
                f"| {drill} | {rule} | {s['crossings']} | {_ms(s['p50_ms'])} | {_ms(s['p95_ms'])}"
                f" | {_ms(s['max_ms'])} | {s['missed']} | {extra_cell} |"
            )
    return "\n".join(out)


def _parts_words(top: list[list[Any]]) -> str:
    return ", ".join(f"{name} {pct:g} %" for name, pct in top) or "none"


def _causes_table(r: JsonDict) -> str:
    cfg = r["config"]
    out = [
        f"| drill | torso merged with a limb, {_m(cfg['default_single_m'])} | begun by |"
        f" both beams before the torso, {_heights(cfg['default_pair_m'])}"
        " | broken by (top / bottom) |",
        "|---|---:|---|---:|---|",
    ]
    for kind, k in r["kinds"].items():
        single, dual = k["default"]["single"], k["default"]["dual"]
        out.append(
            f"| {LABELS[kind]} | {single['merged_pct']:g} % | {_parts_words(single['merged_with'])}"
            f" | {dual['before_torso_pct']:g} % | {_parts_words(dual['before_torso_by'][:3])} |"
        )
    return "\n".join(out)


def _sweep_tables(r: JsonDict) -> str:
    kinds = list(r["kinds"])
    head = "| " + " | ".join(LABELS[k].lower() for k in kinds) + " |"
    singles = [
        f"| one beam at | {head[2:]}",
        "|---|" + "---:|" * len(kinds),
    ]
    for i, height in enumerate(r["config"]["heights_m"]):
        cells = []
        for kind in kinds:
            s = r["kinds"][kind]["sweep"]["single"][i]
            cells.append(f"{_ms(s['longest_break']['p95_ms'])} ({_ms(s['first_break']['p95_ms'])})")
        singles.append(f"| {_m(height)} | " + " | ".join(cells) + " |")
    pairs = [f"| two beams at | {head[2:]}", "|---|" + "---:|" * len(kinds)]
    for i, pair in enumerate(r["config"]["pairs_m"]):
        cells = []
        for kind in kinds:
            d = r["kinds"][kind]["sweep"]["dual"][i]
            cells.append(f"{_ms(d['dual_beam']['p95_ms'])} ({d['before_torso_pct']:g} %)")
        pairs.append(f"| {_heights(pair)} | " + " | ".join(cells) + " |")
    return "\n".join(singles) + "\n\n" + "\n".join(pairs)


def _worst_first(p95_ms: float | None) -> float:
    """A sort key: a p95 that found nothing is the worst."""
    return math.inf if p95_ms is None else p95_ms


def _options(k: JsonDict) -> list[tuple[str, str, float | None]]:
    """Every (rule, heights, p95) of the sweep, the lowest p95 first."""
    sweep = k["sweep"]
    options: list[tuple[str, str, float | None]] = []
    for s in sweep["single"]:
        for rule in ("first_break", "longest_break"):
            options.append((rule, _m(s["height_m"]), s[rule]["p95_ms"]))
    for d in sweep["dual"]:
        options.append(("dual_beam", _heights(d["heights_m"]), d["dual_beam"]["p95_ms"]))
    return sorted(options, key=lambda o: _worst_first(o[2]))


def _guide(r: JsonDict) -> str:
    """Which rule suits which drill, in words, from this run's figures."""
    cfg = r["config"]
    lines = []
    for kind, k in r["kinds"].items():
        single, dual = k["default"]["single"], k["default"]["dual"]
        options = _options(k)
        one = next(o for o in options if o[0] != "dual_beam")
        two = next(o for o in options if o[0] == "dual_beam")
        text = (
            f"**{LABELS[kind]}** ({_speeds(kind)}): on one beam {RULE_WORDS[one[0]]} at "
            f"{one[1]} (p95 {_ms(one[2])} ms), on two dual-beam at {two[1]} ({_ms(two[2])} "
            f"ms). At the default heights: first-break {_ms(single['first_break']['p95_ms'])}, "
            f"longest-break {_ms(single['longest_break']['p95_ms'])}, dual-beam "
            f"{_ms(dual['dual_beam']['p95_ms'])} ms."
        )
        if single["merged_pct"] >= 20:
            text += (
                f" At {_m(cfg['default_single_m'])} a limb began the torso's own break in "
                f"{single['merged_pct']:g} % of passes ({_parts_words(single['merged_with'][:2])})."
            )
        if dual["before_torso_pct"] >= 10:
            text += (
                f" At {_heights(cfg['default_pair_m'])} both beams were broken before the torso "
                f"in {dual['before_torso_pct']:g} % of passes (top / bottom: "
                f"{_parts_words(dual['before_torso_by'][:2])})."
            )
        extra = max(single["first_extra_pct"], single["longest_extra_pct"], dual["extra_pct"])
        if extra > 0:
            text += (
                f" A slow body can still be in the gate when the {cfg['rearm_ms']} ms re-arm "
                f"ends, and then counts twice ({extra:g} % of passes at the default heights): "
                f"give this drill a longer re-arm."
            )
        lines.append("- " + _wrap(text).replace("\n", "\n  "))
    running = [k for k in RUNNING_KINDS if k in r["kinds"]]
    if running:
        i, j = _one_setting(r, running)
        singles = " / ".join(
            _ms(r["kinds"][k]["sweep"]["single"][i]["longest_break"]["p95_ms"]) for k in running
        )
        duals = " / ".join(
            _ms(r["kinds"][k]["sweep"]["dual"][j]["dual_beam"]["p95_ms"]) for k in running
        )
        lines.append(
            "- "
            + _wrap(
                f"**One setting for all running drills** (the lowest mean p95 over "
                f"{', '.join(running)}): longest-break at {_m(r['config']['heights_m'][i])} "
                f"({singles} ms), dual-beam at {_heights(r['config']['pairs_m'][j])} ({duals} "
                f"ms)."
            ).replace("\n", "\n  ")
        )
    return "\n".join(lines)


def _one_setting(r: JsonDict, kinds: Sequence[str]) -> tuple[int, int]:
    """Indexes of the height (longest-break) and the pair (dual-beam) with the lowest mean p95
    over `kinds`: for a coach with one set of gates for several drills."""
    sweeps = [r["kinds"][k]["sweep"] for k in kinds]

    def mean(values: Iterable[float | None]) -> float:
        return sum(_worst_first(v) for v in values) / len(kinds)

    single = [
        mean(s["single"][i]["longest_break"]["p95_ms"] for s in sweeps)
        for i in range(len(r["config"]["heights_m"]))
    ]
    dual = [
        mean(s["dual"][i]["dual_beam"]["p95_ms"] for s in sweeps)
        for i in range(len(r["config"]["pairs_m"]))
    ]
    return single.index(min(single)), dual.index(min(dual))


def _target_words(r: JsonDict) -> str:
    parts = []
    for kind in TARGET_KINDS:
        k = r["kinds"][kind]
        t_l, t_d = r["targets"][f"{kind}_longest_break_p95"], r["targets"][f"{kind}_dual_beam_p95"]
        best_l = next(
            s for s in k["sweep"]["single"] if s["height_m"] == k["best"]["longest_break"]
        )
        best_d = next(d for d in k["sweep"]["dual"] if d["heights_m"] == k["best"]["dual_beam"])
        parts.append(
            f"{kind}: longest-break p95 <= {LONGEST_P95_TARGET_MS:g} ms {_met(t_l['met'])} "
            f"({_ms(t_l['measured_p95_ms'])} ms; {_ms(best_l['longest_break']['p95_ms'])} ms at "
            f"the best height, {_m(best_l['height_m'])}), dual-beam p95 <= "
            f"{DUAL_P95_TARGET_MS:g} ms {_met(t_d['met'])} ({_ms(t_d['measured_p95_ms'])} ms; "
            f"{_ms(best_d['dual_beam']['p95_ms'])} ms at {_heights(best_d['heights_m'])})"
        )
    limits = ", ".join(
        f"{_ms(r['kinds'][kind]['default']['single']['single_beam_limit']['p95_ms'])} ms ({kind})"
        for kind in TARGET_KINDS
    )
    return (
        "Targets at the default heights (issue 14): " + "; ".join(parts) + ". On one beam the "
        f"limit is the torso's merged break: its p95 is {limits} at "
        f"{_m(r['config']['default_single_m'])}, whatever the rule."
    )


def _live_md(r: JsonDict) -> str:
    live = r["live"]
    if live is None:
        return "Live latency: not run (no lanes)."
    after, first = live["after_window"], live["after_first_break"]
    target = r["targets"].get("live_after_window")
    rows = [
        "| figure | what it is | splits | min (ms) | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, what, s in (
        ("after the window", "on the feed - (true first break + window)", after),
        ("after the first break", "on the feed - true first break", first),
    ):
        rows.append(
            f"| {name} | {what} | {s['splits']} | {s['min_ms']:.1f} | {s['p50_ms']:.1f}"
            f" | {s['p95_ms']:.1f} | {s['max_ms']:.1f} |"
        )
    cfg = r["config"]
    setup = _wrap(
        f"Live: {live['lanes']} simulated hubs at once, each a lane of its own ("
        f"{', '.join(live['drills'])} in turn, {cfg['live_reps']} reps each, "
        f"{live['reps_finished']} of {live['reps']} finished), bodies breaking the beams, read "
        f"through pseudo-terminals (USB latency 1-16 ms a frame) by the real driver, "
        f"coordinator and recorder (SQLite) with longest-break on every gate; a page's queue on "
        f"the LiveHub stamps each split as it arrives. The coordinator decides a window no "
        f"later edge has closed {live['late_edge_wait_ms']:g} ms after it ends "
        f"(`LATE_EDGE_US`: edges still on their way), so that is the floor."
    )
    verdict = (
        "" if target is None else "\n\n" + _wrap(
            f"Target: every split on the feed within the window + {LATENCY_TARGET_MS:g} ms of "
            f"its first break: {_met(target['met'])} (at most {after['max_ms']:.1f} ms after "
            f"the window)."
        )
    )  # fmt: skip
    return setup + "\n\n" + "\n".join(rows) + verdict


def render_markdown(r: JsonDict) -> str:
    """The section of docs/BENCHMARKS.md for one run."""
    cfg = r["config"]
    kinds = ", ".join(f"{LABELS[k].lower()} {_speeds(k)}" for k in r["kinds"])
    setup = _wrap(
        f"Virtual athletes with whole bodies (hardware/sim/body.py; sources and assumptions in "
        f"docs/BODY-MODEL.md) cross a gate, {cfg['crossings']} crossings "
        f"per drill kind at speeds drawn uniformly: {kinds}. Each crossing is simulated once "
        f"at every beam height from {cfg['heights_m'][0]:g} to {cfg['heights_m'][-1]:g} m, so "
        f"every rule and height sees the same bodies and strides, and its edges go through a "
        f"real `CrossingDetector` per rule (re-arm {cfg['rearm_ms']} ms). Error: |crossing - "
        f"torso truth|, the torso's leading surface reaching the gate plane. `missed`: passes "
        f"with no crossing (counted as an infinite error); `extra crossings`: passes the rule "
        f"counted twice. The single-beam limit is the best any rule reading one beam could do: "
        f"when a limb ahead of the torso overlaps it in the beam, the two make one break, "
        f"which begins with the limb. The figures follow from the model's assumptions (arm "
        f"carriage above all); they are not measurements of athletes."
    )
    sweep_words = _wrap(
        "Beam heights: p95 (ms) of longest-break on one beam (first-break's in brackets), then "
        "of dual-beam on a pair (in brackets: passes in which both beams were broken before "
        "the torso). `–`: more than 5 % of passes found nothing."
    )
    return f"""{setup}

Command: `python -m bench --only gates` (or `agility bench gates --json`)

At the default heights (hardware/sim/body.py: one beam at {_m(cfg["default_single_m"])}, two at
{_heights(cfg["default_pair_m"])}):

{_default_table(r)}

Why a rule misses, at the default heights:

{_causes_table(r)}

{_wrap(_target_words(r))}

{sweep_words}

{_sweep_tables(r)}

Which rule suits which drill, by these figures:

{_guide(r)}

{_live_md(r)}
"""
