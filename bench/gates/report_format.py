"""How the gates benchmark's section words its figures: labels, milliseconds, heights.

Shared by the tables (bench/gates/report_tables.py) and the prose (bench/gates/report.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

from bench.common import JsonDict
from bench.gates.config import KINDS

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
    "dual_longest": "dual-longest",
}
# Keys of a pair's figures per two-beam rule: (both beams before the torso, by what, extra).
TWO_KEYS: Final = {
    "dual_beam": ("before_torso_pct", "before_torso_by", "extra_pct"),
    "dual_longest": (
        "dual_longest_before_torso_pct", "dual_longest_before_torso_by", "dual_longest_extra_pct",
    ),
}  # fmt: skip


def ms_text(value: float | None) -> str:
    return "–" if value is None or math.isinf(value) else f"{value:.1f}"


def m_text(height: float) -> str:
    return f"{height:.1f} m"


def pair_text(pair: Sequence[float]) -> str:
    return f"{pair[1]:.1f} + {pair[0]:.1f} m"


def where_text(heights: float | Sequence[float]) -> str:
    return m_text(heights) if isinstance(heights, float | int) else pair_text(heights)


def speeds_text(kind: str) -> str:
    low, high = KINDS[kind][1]
    return f"{low:g}-{high:g} m/s"


def row_label(cfg: JsonDict, heights: float | Sequence[float]) -> str:
    """The sweep's row label: which heights are the defaults and which the previous ones."""
    single = not isinstance(heights, Sequence)
    if heights == (cfg["default_single_m"] if single else cfg["default_pair_m"]):
        return f"{where_text(heights)} (default)"
    if heights == (cfg["published_single_m"] if single else cfg["published_pair_m"]):
        return f"{where_text(heights)} (previous default)"
    return where_text(heights)


def parts_text(top: list[list[Any]]) -> str:
    return ", ".join(f"{name} {pct:g} %" for name, pct in top) or "none"


def worst_first(p95_ms: float | None) -> float:
    """A sort key: a p95 that found nothing is the worst."""
    return math.inf if p95_ms is None else p95_ms
