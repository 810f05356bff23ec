"""Rating a time against one norm table, saying which part of the table gave the answer.

Times passed to `rate` are seconds; a table may be written in seconds or milliseconds
(`unit`), and its numbers are converted, never the other way round.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from enum import StrEnum

from drills.metrics import t_score, z_score
from drills.norms.table import BandKind, Method, NormTable, TimingMethod, format_value, ordinal

# Inputs are rounded to this many decimals after a unit conversion, so 0.35 s is 350 ms
# exactly and lands on the right side of a 350 ms band edge.
_ROUND_DECIMALS = 9


class OutOfRange(StrEnum):
    """A time beyond the table's best point ('above') or its worst point ('below')."""

    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True)
class Rating:
    """A time rated against one table, saying how the answer was reached."""

    protocol: str
    population: str
    time_s: float
    method: Method
    percentile: float | None
    band: str | None
    out_of_range: OutOfRange | None
    z: float | None
    t_score: float | None
    message: str
    citation: str
    timing_method: TimingMethod

    def to_json(self) -> dict[str, object]:
        """Plain JSON-ready values; `band` is null when the table has no bands."""
        return {
            "protocol": self.protocol,
            "population": self.population,
            "time_s": self.time_s,
            "method": self.method.value,
            "percentile": self.percentile,
            "band": self.band,
            "out_of_range": None if self.out_of_range is None else self.out_of_range.value,
            "z": self.z,
            "t_score": self.t_score,
            "message": self.message,
            "citation": self.citation,
            "timing_method": self.timing_method.value,
        }


def _interpolate(table: NormTable, value: float) -> tuple[float | None, OutOfRange | None, str]:
    """Percentile by linear interpolation between neighbouring points, never beyond them."""
    points = table.percentiles
    sign = -1.0 if table.lower_is_better else 1.0
    unit = table.unit.value

    def good(v: float) -> float:
        return sign * v

    top, bottom = points[-1], points[0]
    better, worse = ("faster", "slower") if table.lower_is_better else ("better", "worse")
    if good(value) > good(top.value):
        return (
            None,
            OutOfRange.ABOVE,
            f"{better} than the {ordinal(top.percentile)} percentile point "
            f"({format_value(top.value, table.unit)} {unit}); the table does not go further",
        )
    if good(value) < good(bottom.value):
        return (
            None,
            OutOfRange.BELOW,
            f"{worse} than the {ordinal(bottom.percentile)} percentile point "
            f"({format_value(bottom.value, table.unit)} {unit}); the table does not go further",
        )
    for low, high in itertools.pairwise(points):
        if good(low.value) <= good(value) <= good(high.value):
            share = (good(value) - good(low.value)) / (good(high.value) - good(low.value))
            pct = low.percentile + share * (high.percentile - low.percentile)
            gap = ""
            skipped = [p for p in table.missing_percentiles if low.percentile < p < high.percentile]
            if skipped:
                names = ", ".join(ordinal(p) for p in skipped)
                gap = f"; interpolated across the missing {names} point{'s' * (len(skipped) > 1)}"
            return pct, None, f"at the {ordinal(pct)} percentile (percentile table{gap})"
    raise AssertionError("unreachable: value lies within the table")  # pragma: no cover


def _band_index(table: NormTable, value: float) -> int:
    for i, band in enumerate(table.bands):
        if band.upper is None:
            return i
        if value < band.upper or (band.upper_inclusive and value == band.upper):
            return i
    raise AssertionError("unreachable: the last band is open-ended")  # pragma: no cover


def _band_text(table: NormTable, index: int) -> str:
    label, where = table.bands[index].label, table.band_range(index)
    if table.band_kind is BandKind.REFERENCE:
        return f"reference range: {label} ({where})"
    if table.band_kind is BandKind.CUT_OFF:
        return f"{label} ({where}; a screening cut-off, not a diagnosis)"
    return f"rated '{label}' ({where})"


def rate(table: NormTable, time_s: float) -> Rating:
    """Rate a time in seconds against a table.

    Method, in order of preference: linear interpolation in the percentile table (missing
    points skipped, never extrapolated: a time beyond the last point gets percentile None and
    `out_of_range`); else the normal approximation from mean and SD; else bands alone. The
    band is given whenever the table has bands, and z / T whenever it has mean and SD. For
    times a lower time is a higher percentile.
    """
    if isinstance(time_s, bool) or not math.isfinite(time_s) or time_s <= 0:
        raise ValueError(f"time must be a positive number of seconds, got {time_s}")
    value = round(time_s * table.unit.per_second, _ROUND_DECIMALS)
    unit = table.unit.value
    z: float | None = None
    t: float | None = None
    if table.mean is not None and table.sd is not None:
        z = z_score(value, table.mean, table.sd, lower_is_better=table.lower_is_better)
        t = t_score(z)
    band: str | None = None
    band_text = ""
    if table.bands:
        index = _band_index(table, value)
        band = table.bands[index].label
        band_text = _band_text(table, index)
    percentile: float | None = None
    out_of_range: OutOfRange | None = None
    parts: list[str] = []
    if table.percentiles:
        method = Method.PERCENTILE_TABLE
        percentile, out_of_range, text = _interpolate(table, value)
        parts.append(text)
    elif z is not None and table.mean is not None and table.sd is not None:
        method = Method.NORMAL
        percentile = 100.0 * statistics.NormalDist().cdf(z)
        parts.append(
            f"about the {ordinal(percentile)} percentile (normal approximation from mean "
            f"{format_value(table.mean, table.unit)} {unit}, "
            f"SD {format_value(table.sd, table.unit)} {unit})"
        )
    else:
        method = Method.BANDS
    if band_text:
        parts.append(band_text)
    if z is not None and t is not None:
        parts.append(f"z = {z:+.2f}, T = {t:.0f}")
    message = f"{format_value(value, table.unit)} {unit}: " + "; ".join(parts)
    return Rating(
        protocol=table.protocol,
        population=table.id,
        time_s=time_s,
        method=method,
        percentile=percentile,
        band=band,
        out_of_range=out_of_range,
        z=z,
        t_score=t,
        message=message,
        citation=table.citation,
        timing_method=table.timing_method,
    )
