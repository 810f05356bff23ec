"""The one percentile and the one summary every benchmark reports its figures with.

One definition, so a p99 in one section of docs/BENCHMARKS.md means what it means in the next:
nearest rank, never interpolated, so every figure is a value that was really measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Summary = dict[str, float | int]


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list: p99 of 500 values is the 495th."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(
    values_ms: Iterable[float],
    count_key: str,
    *,
    quantiles: Sequence[float] = (0.50, 0.99),
    digits: int | None = 4,
    absolute: bool = True,
) -> Summary:
    """`p50_ms`, `p99_ms` (one key per quantile), `max_ms` and `count_key`: how many values.

    Errors are summarised by size (`absolute`: a split 1 ms early is as wrong as one 1 ms late);
    latencies and other signed figures keep their sign. `digits=None` leaves figures unrounded.
    An empty sample gives NaN figures and a count of 0.
    """
    ordered = sorted(abs(v) for v in values_ms) if absolute else sorted(values_ms)

    def rounded(value: float) -> float:
        return value if digits is None else round(value, digits)

    out: Summary = {f"p{round(q * 100)}_ms": rounded(percentile(ordered, q)) for q in quantiles}
    out["max_ms"] = rounded(ordered[-1]) if ordered else math.nan
    out[count_key] = len(ordered)
    return out


def round_all(values: Iterable[float], digits: int = 1) -> list[float]:
    return [round(v, digits) for v in values]
