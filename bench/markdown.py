"""Words every section of docs/BENCHMARKS.md shares: a target's verdict, a wrapped paragraph."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from bench.common import JsonDict

WIDTH = 96  # the width docs/BENCHMARKS.md's prose is wrapped at


def met(ok: bool) -> str:
    """A target's verdict, bold either way: a missed target is reported, never hidden."""
    return "**met**" if ok else "**NOT met**"


def wrap(text: str) -> str:
    """One paragraph at the document's width; paths, units and hyphenated words kept whole."""
    return textwrap.fill(text, width=WIDTH, break_long_words=False, break_on_hyphens=False)


def item(text: str) -> str:
    """A wrapped bullet, its continuation lines indented under the text."""
    return "- " + wrap(text).replace("\n", "\n  ")


def stats_table(
    rows: Sequence[tuple[str, str, JsonDict]], count_key: str, percentiles: Sequence[int] = (50, 99)
) -> str:
    """The latency table several sections share: a row a figure, its count under `count_key`,
    then the chosen percentiles and the maximum, in ms (the result keys `p50_ms`... `max_ms`)."""
    columns = [f"p{p}_ms" for p in percentiles] + ["max_ms"]
    heads = " | ".join(f"p{p} (ms)" for p in percentiles)
    out = [f"| figure | what it is | {count_key} | {heads} | max (ms) |"]
    out.append("|---|---|" + "---:|" * (len(columns) + 1))
    for name, what, stats in rows:
        cells = " | ".join(f"{stats[c]:.3f}" for c in columns)
        out.append(f"| {name} | {what} | {stats[count_key]} | {cells} |")
    return "\n".join(out)
