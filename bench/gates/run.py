"""The gates benchmark in one call: the crossings, the live part, the targets (see bench/gates/)."""

from __future__ import annotations

import time
from typing import Any

from bench.common import JsonDict
from bench.gates.config import (
    DEFAULT_PAIR_M,
    HEIGHTS_M,
    KINDS,
    PAIR_SPACING_M,
    PAIRS_M,
    PUBLISHED_PAIR_M,
    PUBLISHED_SINGLE_M,
    GatesConfig,
)
from bench.gates.crossings import simulate_crossings
from bench.gates.figures import kind_figures, targets
from bench.gates.live import run_live
from hardware.sim.body import SINGLE_BEAM_HEIGHT_M


def run_crossings(cfg: GatesConfig) -> JsonDict:
    """The pure part: every drill kind's crossings through every rule and height."""
    started = time.monotonic()
    records = simulate_crossings(cfg)
    kinds = {kind: kind_figures([r for r in records if r.kind == kind]) for kind in KINDS}
    return {"kinds": kinds, "duration_s": round(time.monotonic() - started, 1)}


def run_gates_bench(
    crossings: int = GatesConfig.crossings, seed: int = 1, **knobs: Any
) -> JsonDict:
    """Every rule against the torso's truth, the height sweep, and the live latency; see
    bench/gates/. `knobs` are the other fields of GatesConfig. `met`: every target at the
    default heights (and the live one); each target also says whether the best heights meet
    it (`best_met`)."""
    cfg = GatesConfig(crossings=crossings, seed=seed, **knobs)
    cfg.check()
    result = run_crossings(cfg)
    live = run_live(cfg) if cfg.live_lanes and cfg.live_reps else None
    result["live"] = live
    result["config"] = {
        "crossings": cfg.crossings,
        "kinds": {k: {"direction": d, "speed_mps": list(s)} for k, (d, s) in KINDS.items()},
        "window_ms": cfg.window_ms,
        "rearm_ms": cfg.rearm_ms,
        "heights_m": list(HEIGHTS_M),
        "pairs_m": [list(p) for p in PAIRS_M],
        "pair_spacing_m": list(PAIR_SPACING_M),
        "default_single_m": SINGLE_BEAM_HEIGHT_M,
        "default_pair_m": list(DEFAULT_PAIR_M),
        "published_single_m": PUBLISHED_SINGLE_M,
        "published_pair_m": list(PUBLISHED_PAIR_M),
        "live_lanes": cfg.live_lanes,
        "live_reps": cfg.live_reps,
        "seed": cfg.seed,
    }
    result["targets"] = targets(result["kinds"], live)
    result["met"] = all(t["met"] for t in result["targets"].values())
    return result
