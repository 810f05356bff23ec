"""The gates benchmark's figures: each rule's errors per drill kind and height, and the targets."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.common import JsonDict
from bench.gates.config import (
    DEFAULT_PAIR_M,
    HEIGHTS_M,
    PAIRS_M,
    TARGET_KINDS,
    TARGET_RULES,
)
from bench.gates.crossings import Record, Two
from bench.gates.live import live_target
from bench.stats import summarize
from hardware.sim.body import SINGLE_BEAM_HEIGHT_M


def _stats(errors_us: Sequence[int | None]) -> JsonDict:
    """p50, p95 and max of |error| in ms; a pass with no crossing counts as an infinite error
    (a p95 of None: more than 5 % found nothing)."""
    s = summarize(
        (math.inf if e is None else e / 1000 for e in errors_us),
        "crossings", quantiles=(0.50, 0.95), digits=3,
    )  # fmt: skip

    def finite(value: float) -> float | None:
        return None if math.isinf(value) else value

    signed = [e / 1000 for e in errors_us if e is not None]
    return {
        "p50_ms": finite(s["p50_ms"]),
        "p95_ms": finite(s["p95_ms"]),
        "max_ms": finite(s["max_ms"]) if s["crossings"] else None,
        "mean_signed_ms": round(sum(signed) / len(signed), 3) if signed else None,
        "crossings": s["crossings"],
        "missed": sum(e is None for e in errors_us),
    }


def _share(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else math.nan


def _top(counter: Counter[str], total: int, n: int = 4) -> list[list[Any]]:
    return [[name, _share(c, total)] for name, c in counter.most_common(n)]


def _single_figures(records: Sequence[Record], index: int) -> JsonDict:
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


def _two_figures(twos: Sequence[Two], prefix: str) -> JsonDict:
    before = Counter(t.before_torso for t in twos if t.before_torso is not None)
    n = len(twos)
    return {
        f"{prefix}before_torso_pct": _share(sum(before.values()), n),
        f"{prefix}before_torso_by": _top(before, n),
        f"{prefix}extra_pct": _share(sum(t.extra > 0 for t in twos), n),
    }


def _dual_figures(records: Sequence[Record], index: int) -> JsonDict:
    """A pair's figures: dual-beam's under the keys they always had (`dual_beam`,
    `before_torso_pct`, ...), dual-longest's under `dual_longest` and `dual_longest_...`."""
    beam = [r.duals[index].beam for r in records]
    longest = [r.duals[index].longest for r in records]
    top, bottom = PAIRS_M[index]
    return {
        "heights_m": [top, bottom],
        "dual_beam": _stats([t.error_us for t in beam]),
        **_two_figures(beam, ""),
        "dual_longest": _stats([t.error_us for t in longest]),
        **_two_figures(longest, "dual_longest_"),
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


def kind_figures(records: Sequence[Record]) -> JsonDict:
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
            "dual_longest": _best(duals, "dual_longest")["heights_m"],
        },
    }


def _p95_ok(stats: JsonDict, limit_ms: float) -> bool:
    return stats["p95_ms"] is not None and stats["p95_ms"] <= limit_ms


def against_target(k: JsonDict, rule: str) -> JsonDict:
    """One kind's figures for `rule` against its p95 target: at the default heights (`met`,
    what the command's exit status follows) and at the kind's best heights in the sweep (a
    coach sets the gates per drill). Also used for kinds the issue sets no target for."""
    sweep, limit = TARGET_RULES[rule]
    key = "height_m" if sweep == "single" else "heights_m"
    default = k["default"][sweep]
    best = next(row for row in k["sweep"][sweep] if row[key] == k["best"][rule])
    return {
        "p95_ms": limit,
        "heights_m": default[key],
        "measured_p95_ms": default[rule]["p95_ms"],
        "met": _p95_ok(default[rule], limit),
        "best_heights_m": best[key],
        "best_measured_p95_ms": best[rule]["p95_ms"],
        "best_met": _p95_ok(best[rule], limit),
    }


def targets(kinds: JsonDict, live: JsonDict | None) -> JsonDict:
    """Every target of the issue, keyed `<kind>_<rule>_p95`, and the live one when it ran."""
    out: JsonDict = {
        f"{kind}_{rule}_p95": against_target(kinds[kind], rule)
        for kind in TARGET_KINDS
        for rule in TARGET_RULES
    }
    latency = live_target(live)
    if latency is not None:
        out["live_after_window"] = latency
    return out
