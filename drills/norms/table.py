"""What a norm table is once read: its population, its unit, its points and bands.

Also how one of its numbers is written for a person, since a table's own wording (its band
ranges) and a rating's message must print the same number the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    MIXED = "mixed"
    UNSPECIFIED = "unspecified"


class TimingMethod(StrEnum):
    """How the source timed its athletes.

    Hand timing reads faster than gates (about 0.24 s on short sprints, NSCA Guide), so a
    gate time rated against a hand-timed table looks worse than it is. `unspecified` is for
    sources that do not say; treat such tables as rough.
    """

    ELECTRONIC = "electronic"
    HAND = "hand"
    UNSPECIFIED = "unspecified"


class Unit(StrEnum):
    SECONDS = "s"
    MILLISECONDS = "ms"

    @property
    def per_second(self) -> float:
        return 1000.0 if self is Unit.MILLISECONDS else 1.0


class BandKind(StrEnum):
    """What the bands mean, which decides how a result is worded.

    `rating`: a graded scale (excellent ... poor). `cut-off`: a screening threshold with
    modest accuracy, not a diagnosis. `reference`: ranges typical of named groups, which
    say where a time sits, not how good it is.
    """

    RATING = "rating"
    CUT_OFF = "cut-off"
    REFERENCE = "reference"


class Method(StrEnum):
    """Which part of a table produced a rating; always reported with the result."""

    PERCENTILE_TABLE = "percentile_table"
    NORMAL = "normal"
    BANDS = "bands"


@dataclass(frozen=True)
class PercentilePoint:
    percentile: float
    value: float  # in the table's unit


@dataclass(frozen=True)
class Band:
    """One band: from the previous band's upper bound (or minus infinity) to this one's.

    `upper` None marks the last, open-ended band. `upper_inclusive` says whether a value
    equal to `upper` belongs here (`up_to` in the file) or to the next band (`below`).
    """

    label: str
    upper: float | None
    upper_inclusive: bool


@dataclass(frozen=True)
class NormTable:
    """One published table for one population on one protocol."""

    id: str
    protocol: str
    drills: tuple[str, ...]
    population: str
    sex: Sex
    level: str
    age: str | None
    timing_method: TimingMethod
    unit: Unit
    lower_is_better: bool
    citation: str
    notes: str | None
    n: int | None
    mean: float | None  # in the table's unit
    sd: float | None
    percentiles: tuple[PercentilePoint, ...]  # ascending percentile, missing points left out
    missing_percentiles: tuple[float, ...]
    band_kind: BandKind
    bands: tuple[Band, ...]  # ascending value
    source_file: str

    @property
    def names(self) -> frozenset[str]:
        """Every drill name this table answers to: its protocol and its listed drill slugs."""
        return frozenset((self.protocol, *self.drills))

    def matches(self, drill: str) -> bool:
        """True for the protocol name or a listed drill slug (exact match only)."""
        return drill in self.names

    def methods(self) -> tuple[Method, ...]:
        """The rating methods this table supports, in the order `rate` prefers them."""
        out: list[Method] = []
        if self.percentiles:
            out.append(Method.PERCENTILE_TABLE)
        if self.mean is not None and self.sd is not None:
            out.append(Method.NORMAL)
        if self.bands:
            out.append(Method.BANDS)
        return tuple(out)

    def band_range(self, index: int) -> str:
        """A band's interval in the table's unit, e.g. '9.50 < t ≤ 10.50 s'."""
        band = self.bands[index]
        unit = self.unit.value
        prev = self.bands[index - 1] if index > 0 else None
        if band.upper is None:
            if prev is None or prev.upper is None:
                return "any time"
            sign = ">" if prev.upper_inclusive else "≥"
            return f"t {sign} {format_value(prev.upper, self.unit)} {unit}"
        lower = ""
        if prev is not None and prev.upper is not None:
            lower = f"{format_value(prev.upper, self.unit)} {'<' if prev.upper_inclusive else '≤'} "
        sign = "≤" if band.upper_inclusive else "<"
        return f"{lower}t {sign} {format_value(band.upper, self.unit)} {unit}"

    def to_json(self) -> dict[str, object]:
        """The table as plain JSON-ready values, numbers in the table's own unit."""
        return {
            "id": self.id,
            "protocol": self.protocol,
            "drills": list(self.drills),
            "population": self.population,
            "sex": self.sex.value,
            "level": self.level,
            "age": self.age,
            "timing_method": self.timing_method.value,
            "unit": self.unit.value,
            "lower_is_better": self.lower_is_better,
            "methods": [m.value for m in self.methods()],
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "percentiles": {f"{p.percentile:g}": p.value for p in self.percentiles},
            "missing_percentiles": [f"{p:g}" for p in self.missing_percentiles],
            "band_kind": self.band_kind.value if self.bands else None,
            "bands": [
                {"label": b.label, "range": self.band_range(i)} for i, b in enumerate(self.bands)
            ],
            "citation": self.citation,
            "notes": self.notes,
        }


def format_value(value: float, unit: Unit) -> str:
    """A table number as a person reads it: at least 2 decimals in s, whole ms where possible."""
    if unit is Unit.MILLISECONDS:
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    text = f"{value:.3f}"
    return text[:-1] if text.endswith("0") else text


def ordinal(value: float) -> str:
    """'1st', '22nd', '90th': a percentile rounded to a whole number, as a table prints it."""
    n = round(value)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
