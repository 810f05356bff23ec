"""The gates benchmark's pure part: one simulated crossing through every rule at every height.

No clock and no I/O: each job is seeded by itself, so the figures do not depend on how many
worker processes share the jobs.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Final

from bench.gates.config import HEIGHTS_M, KINDS, PAIRS_M, GatesConfig
from drills.crossing import BeamEdge, CrossingDetector, Detected, GateRule, Trigger
from drills.timing import Stamp
from hardware.sim.anthropometry import Body
from hardware.sim.body import Crossing, Pass, simulate_pass

# A crossing stamped this much before the truth was not the torso's: the body model bisects
# each edge to 1 µs.
BEFORE_TORSO_US: Final = 5
TRUTH_S: Final = 100.0
CHUNK: Final = 50  # crossings per job handed to a worker


@dataclass(frozen=True)
class Single:
    """One beam at one height: what each rule made of it."""

    first_us: int | None  # crossing - truth; None: no crossing found
    first_extra: int  # further crossings first-break found in the same pass
    longest_us: int | None
    longest_extra: int  # further crossings longest-break found in the same pass
    limit_us: int | None  # start of the break holding the torso's start; None: no torso here
    merged_with: str | None  # the limb that began that break, when one did


@dataclass(frozen=True)
class Two:
    """One two-beam rule on one pair."""

    error_us: int | None
    extra: int
    before_torso: str | None  # "top part / bottom part" when both were limbs'


@dataclass(frozen=True)
class Dual:
    beam: Two  # dual-beam
    longest: Two  # dual-longest


@dataclass(frozen=True)
class Record:
    kind: str
    speed_mps: float
    singles: tuple[Single, ...]  # per HEIGHTS_M
    duals: tuple[Dual, ...]  # per PAIRS_M


def _us(t_s: float) -> int:
    """Absolute seconds of the simulation to µs from the truth."""
    return round((t_s - TRUTH_S) * 1e6)


def _stamp(rel_us: int) -> Stamp:
    mono = round(TRUTH_S * 1e6) + rel_us
    return Stamp(mono_us=mono, clock="sim", ticks=mono, tick_hz_est=1e6)


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


def _single(crossing: Crossing, index: int, first: GateRule, longest: GateRule) -> Single:
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
    return Single(
        _error(by_first), max(0, len(by_first) - 1), _error(by_longest),
        max(0, len(by_longest) - 1), limit_us, merged_with,
    )  # fmt: skip


def _two(crossing: Crossing, top: int, bottom: int, found: list[Detected]) -> Two:
    error = _error(found)
    before = None
    if error is not None and error < -BEFORE_TORSO_US:
        at_s = TRUTH_S + error / 1e6 + 1e-6
        top_parts = crossing.covering(at_s, crossing.beams[top].height_m)
        bottom_parts = crossing.covering(at_s, crossing.beams[bottom].height_m)
        before = f"{_parts(top_parts)} / {_parts(bottom_parts)}"
    return Two(error, max(0, len(found) - 1), before)


def _dual(crossing: Crossing, top: int, bottom: int, rules: tuple[GateRule, GateRule]) -> Dual:
    edges = sorted(_beam_edges(crossing, top, 0) + _beam_edges(crossing, bottom, 1))
    beam, longest = (_two(crossing, top, bottom, _run(rule, edges)) for rule in rules)
    return Dual(beam, longest)


def _simulate(job: tuple[str, int, int, int, int, int]) -> list[Record]:
    """One worker's share: `count` crossings of one drill kind, seeded by the job alone, so
    the figures do not depend on how many workers there are."""
    kind, seed, chunk, count, window_us, rearm_us = job
    direction, (low, high) = KINDS[kind]
    rng = random.Random(f"gates:{seed}:{kind}:{chunk}")
    first = GateRule(Trigger.FIRST_BREAK, rearm_us=rearm_us)
    longest = GateRule(Trigger.LONGEST_BREAK, window_us, rearm_us)
    two = (
        GateRule(Trigger.DUAL_BEAM, rearm_us=rearm_us),
        GateRule(Trigger.DUAL_LONGEST, window_us, rearm_us),
    )
    index = {h: i for i, h in enumerate(HEIGHTS_M)}
    out = []
    for _ in range(count):
        body = Body.sample(rng)
        speed = rng.uniform(low, high)
        crossing = simulate_pass(body, Pass(direction, speed, TRUTH_S), HEIGHTS_M, rng)
        singles = tuple(_single(crossing, i, first, longest) for i in range(len(HEIGHTS_M)))
        duals = tuple(_dual(crossing, index[t], index[b], two) for t, b in PAIRS_M)
        out.append(Record(kind, speed, singles, duals))
    return out


def simulate_crossings(cfg: GatesConfig) -> list[Record]:
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
