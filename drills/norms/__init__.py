"""Published norm tables as data files, and rating a time against one of them.

One TOML file per table in this folder (format described in README.md beside this file).
A table belongs to one protocol and one population; it answers to its `protocol` name and to
every drill slug in its `drills` list, exactly (no prefix matching), so the left and right
pro-agility drills share one table only because the file says so.

Times passed to `rate` are seconds; a table may be written in seconds or milliseconds
(`unit`), and its numbers are converted, never the other way round.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drills._checker import MISSING, Checker, parse_checked, read_utf8, toml_type
from drills._toml_lines import FieldPath
from drills.errors import DrillError, DrillsError

NORMS_DIR = Path(__file__).resolve().parent
SUPPORTED_FORMATS = frozenset({1})
MISSING_MARKS = frozenset({"-", "–", "—"})
"""How a percentile point the source does not give is written (hyphen, en or em dash)."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOP_KEYS = (
    "format",
    "id",
    "protocol",
    "drills",
    "population",
    "sex",
    "level",
    "age",
    "timing_method",
    "unit",
    "lower_is_better",
    "citation",
    "notes",
    "n",
    "mean",
    "sd",
    "percentiles",
    "band_kind",
    "bands",
)
_BAND_KEYS = ("label", "below", "up_to")
# Inputs are rounded to this many decimals after a unit conversion, so 0.35 s is 350 ms
# exactly and lands on the right side of a 350 ms band edge.
_ROUND_DECIMALS = 9


class NormsError(DrillsError):
    """Base for problems with norm tables (bad files, unknown drill or population)."""


class NormFileError(NormsError):
    """One or more norm files could not be loaded; `errors` names each file and field."""

    def __init__(self, errors: list[DrillError]) -> None:
        self.errors: list[DrillError] = list(errors)
        count = len(self.errors)
        head = f"{count} problem{'s' if count != 1 else ''} in norm file(s)"
        super().__init__("\n".join([head, *(str(e) for e in self.errors)]))


class NormNotFound(NormsError):
    """No table for that drill, or no such population for it; `valid` lists the choices."""

    def __init__(self, message: str, valid: tuple[str, ...]) -> None:
        self.valid = valid
        super().__init__(message)


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


class OutOfRange(StrEnum):
    """A time beyond the table's best point ('above') or its worst point ('below')."""

    ABOVE = "above"
    BELOW = "below"


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
            return f"t {sign} {_fmt(prev.upper, self.unit)} {unit}"
        lower = ""
        if prev is not None and prev.upper is not None:
            lower = f"{_fmt(prev.upper, self.unit)} {'<' if prev.upper_inclusive else '≤'} "
        sign = "≤" if band.upper_inclusive else "<"
        return f"{lower}t {sign} {_fmt(band.upper, self.unit)} {unit}"

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


# --- formatting ------------------------------------------------------------------------------


def _fmt(value: float, unit: Unit) -> str:
    """A table number as a person reads it: at least 2 decimals in s, whole ms where possible."""
    if unit is Unit.MILLISECONDS:
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    text = f"{value:.3f}"
    return text[:-1] if text.endswith("0") else text


def _ordinal(value: float) -> str:
    n = round(value)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- loading ---------------------------------------------------------------------------------


def _positive(c: Checker, data: Mapping[str, object], key: str) -> float | None:
    if key not in data:
        return None
    value = c.number(data, key, ())
    if value is not None and value <= 0:
        c.error((key,), f"must be greater than 0, got {value:g}")
        return None
    return value


def _slug(c: Checker, data: Mapping[str, object], key: str) -> str | None:
    value = c.string(data, key, ())
    if value is not None and not _SLUG.match(value):
        c.error((key,), f"'{value}' must be lowercase letters, digits and single dashes")
        return None
    return value


def _read_percentiles(
    c: Checker, data: Mapping[str, object], lower_is_better: bool | None
) -> tuple[tuple[PercentilePoint, ...], tuple[float, ...]] | None:
    raw = data.get("percentiles", MISSING)
    if raw is MISSING:
        return (), ()
    if not isinstance(raw, dict):
        c.error(("percentiles",), f"must be a table of percentile = value, not {toml_type(raw)}")
        return None
    points: list[PercentilePoint] = []
    missing: list[float] = []
    ok = True
    for key, value in raw.items():
        at: FieldPath = ("percentiles", key)
        try:
            pct = float(key)
        except ValueError:
            c.error(at, f"'{key}' is not a percentile (a number between 0 and 100)")
            ok = False
            continue
        if not 0 < pct < 100:
            c.error(at, f"percentile {key} must be between 0 and 100 (exclusive)")
            ok = False
            continue
        if isinstance(value, str) and value.strip() in MISSING_MARKS:
            missing.append(pct)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            c.error(at, f'must be a number or "-" for a missing point, not {toml_type(value)}')
            ok = False
            continue
        if not math.isfinite(value) or value <= 0:
            c.error(at, f"must be a positive number, got {value}")
            ok = False
            continue
        points.append(PercentilePoint(pct, float(value)))
    if not ok:
        return None
    points.sort(key=lambda p: p.percentile)
    if len(points) < 2:
        c.error(("percentiles",), "needs at least 2 points that are not missing")
        return None
    if lower_is_better is not None:
        for low, high in itertools.pairwise(points):
            better = high.value < low.value if lower_is_better else high.value > low.value
            if not better:
                word = "faster (lower)" if lower_is_better else "higher"
                c.error(
                    ("percentiles", _key_text(high.percentile)),
                    f"{high.value:g} must be {word} than the "
                    f"{_ordinal(low.percentile)} percentile point ({low.value:g}): "
                    "values must get strictly better as the percentile rises",
                )
                return None
    return tuple(points), tuple(sorted(missing, reverse=True))


def _key_text(pct: float) -> str:
    return f"{pct:g}"


def _read_bands(c: Checker, data: Mapping[str, object]) -> tuple[Band, ...] | None:
    raw = data.get("bands", MISSING)
    if raw is MISSING:
        return ()
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        c.error(("bands",), "must be an array of tables ([[bands]])")
        return None
    if len(raw) < 2:
        c.error(("bands",), "needs at least 2 bands")
        return None
    bands: list[Band] = []
    ok = True
    previous: float | None = None
    for i, item in enumerate(raw):
        at: FieldPath = ("bands", i)
        c.known_keys(item, _BAND_KEYS, at)
        label = c.string(item, "label", at)
        last = i == len(raw) - 1
        has_below, has_up_to = "below" in item, "up_to" in item
        if last:
            if has_below or has_up_to:
                c.error(at, "the last band is open-ended: give it no 'below' or 'up_to'")
                ok = False
            if label is not None:
                bands.append(Band(label, None, False))
            continue
        if has_below == has_up_to:
            c.error(at, "give exactly one of 'below' (bound excluded) or 'up_to' (included)")
            ok = False
            continue
        key = "below" if has_below else "up_to"
        upper = c.number(item, key, at)
        if upper is None or label is None:
            ok = False
            continue
        if previous is not None and upper <= previous:
            c.error((*at, key), f"{upper:g} must be above the previous band's bound {previous:g}")
            ok = False
        previous = upper
        bands.append(Band(label, upper, upper_inclusive=has_up_to))
    labels = [b.label for b in bands]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            c.error(("bands", i, "label"), f"'{label}' is used twice")
            ok = False
    return tuple(bands) if ok else None


def _build(c: Checker, data: dict[str, object], stem: str | None) -> NormTable | None:
    c.known_keys(data, _TOP_KEYS, ())
    fmt = c.integer(data, "format", ())
    if fmt is not None and fmt not in SUPPORTED_FORMATS:
        known = ", ".join(str(f) for f in sorted(SUPPORTED_FORMATS))
        c.error(("format",), f"unsupported format {fmt} (this program reads: {known})")
    table_id = _slug(c, data, "id")
    protocol = _slug(c, data, "protocol")
    drills: tuple[str, ...] = ()
    if "drills" in data:
        listed = c.strings(data, "drills", ())
        if listed is not None:
            for i, slug in enumerate(listed):
                if not _SLUG.match(slug):
                    c.error(("drills", i), f"'{slug}' is not a drill slug")
            drills = listed
    if stem is not None and table_id is not None and protocol is not None:
        expected = f"{protocol}.{table_id}"
        if stem != expected:
            c.error(
                ("id",),
                f"file name must be '{expected}.toml' (protocol.id) so tables never drift "
                f"from their names; it is '{stem}.toml'",
            )
    population = c.string(data, "population", ())
    sex = c.choice(data, "sex", (), Sex)
    level = c.string(data, "level", ())
    age = c.string(data, "age", (), required=False)
    timing_method = c.choice(data, "timing_method", (), TimingMethod)
    unit = c.choice(data, "unit", (), Unit)
    lower = c.get(data, "lower_is_better", (), required=True)
    lower_is_better: bool | None = None
    if lower is not MISSING:
        if isinstance(lower, bool):
            lower_is_better = lower
        else:
            c.error(("lower_is_better",), f"must be true or false, not {toml_type(lower)}")
    citation = c.string(data, "citation", ())
    notes = c.string(data, "notes", (), required=False)
    n = c.integer(data, "n", (), default=0) if "n" in data else None
    if n is not None and n < 1:
        c.error(("n",), f"sample size must be at least 1, got {n}")
    mean = _positive(c, data, "mean")
    sd = _positive(c, data, "sd")
    percentiles = _read_percentiles(c, data, lower_is_better)
    band_kind = BandKind.RATING
    if "band_kind" in data:
        band_kind = c.choice(data, "band_kind", (), BandKind) or BandKind.RATING
        if "bands" not in data:
            c.error(("band_kind",), "only used with [[bands]]")
    bands = _read_bands(c, data)
    has_normal = mean is not None and sd is not None
    if percentiles == ((), ()) and bands == () and not has_normal and not c.errors:
        c.error((), "a table needs at least one of: [percentiles], mean and sd, [[bands]]")
    if (
        c.errors
        or table_id is None
        or protocol is None
        or population is None
        or sex is None
        or level is None
        or timing_method is None
        or unit is None
        or lower_is_better is None
        or citation is None
        or percentiles is None
        or bands is None
    ):
        return None
    return NormTable(
        id=table_id,
        protocol=protocol,
        drills=drills,
        population=population,
        sex=sex,
        level=level,
        age=age,
        timing_method=timing_method,
        unit=unit,
        lower_is_better=lower_is_better,
        citation=citation,
        notes=notes,
        n=n,
        mean=mean,
        sd=sd,
        percentiles=percentiles[0],
        missing_percentiles=percentiles[1],
        band_kind=band_kind,
        bands=bands,
        source_file=c.file,
    )


def _parse(text: str, source_name: str, stem: str | None) -> tuple[NormTable | None, Checker]:
    return parse_checked(text, source_name, lambda c, data: _build(c, data, stem))


def _read(path: Path) -> tuple[NormTable | None, list[DrillError]]:
    text, errors = read_utf8(path)
    if text is None:
        return None, errors
    table, c = _parse(text, str(path), path.stem)
    return table, c.errors


def load_norm_text(text: str, source_name: str = "<text>") -> NormTable:
    """Validate one table held in memory (an upload, a test); no file-name rule applies."""
    table, c = _parse(text, source_name, None)
    if table is None:
        raise NormFileError(c.errors)
    return table


def load_norm(path: str | Path) -> NormTable:
    """Load one norm file; its name must be `<protocol>.<id>.toml`."""
    table, errors = _read(Path(path))
    if table is None:
        raise NormFileError(errors)
    return table


def load_norms(folder: str | Path | None = None) -> list[NormTable]:
    """Every table in a folder (default: the built-in one), sorted by protocol then id.

    All-or-nothing, like the drill library: one broken file fails the load with every
    problem listed, because a rating silently missing a table is worse than a clear error.
    Two tables may not share an id for any drill name they answer to.
    """
    directory = NORMS_DIR if folder is None else Path(folder)
    if not directory.is_dir():
        raise NormFileError([DrillError(str(directory), "", "not a directory")])
    tables: list[NormTable] = []
    errors: list[DrillError] = []
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(directory.glob("*.toml")):
        table, file_errors = _read(path)
        errors.extend(file_errors)
        if table is None:
            continue
        for name in sorted(table.names):
            other = seen.get((name, table.id))
            if other is not None:
                errors.append(
                    DrillError(str(path), "id", f"'{table.id}' for '{name}' is also in {other}")
                )
            seen[(name, table.id)] = str(path)
        tables.append(table)
    if errors:
        raise NormFileError(errors)
    return sorted(tables, key=lambda t: (t.protocol, t.id))


# --- lookup ----------------------------------------------------------------------------------


def norms_for(drill: str, tables: Iterable[NormTable] | None = None) -> list[NormTable]:
    """Tables that answer to a drill slug or protocol name; may be empty."""
    pool = load_norms() if tables is None else tables
    return [t for t in pool if t.matches(drill)]


def find_norm(drill: str, population: str, tables: Iterable[NormTable] | None = None) -> NormTable:
    """The table for a drill and population id.

    Population ids are unique per drill, not globally (`college-men` may exist for several
    tests), hence the drill. Raises NormNotFound listing the valid choices.
    """
    pool = list(load_norms() if tables is None else tables)
    candidates = [t for t in pool if t.matches(drill)]
    if not candidates:
        names = tuple(sorted({t.protocol for t in pool}))
        raise NormNotFound(
            f"no norm tables for drill '{drill}'; drills with norms: {', '.join(names)}", names
        )
    for table in candidates:
        if table.id == population:
            return table
    ids = tuple(sorted(t.id for t in candidates))
    raise NormNotFound(
        f"no population '{population}' for drill '{drill}'; valid populations: {', '.join(ids)}",
        ids,
    )


# --- rating ----------------------------------------------------------------------------------


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
            f"{better} than the {_ordinal(top.percentile)} percentile point "
            f"({_fmt(top.value, table.unit)} {unit}); the table does not go further",
        )
    if good(value) < good(bottom.value):
        return (
            None,
            OutOfRange.BELOW,
            f"{worse} than the {_ordinal(bottom.percentile)} percentile point "
            f"({_fmt(bottom.value, table.unit)} {unit}); the table does not go further",
        )
    for low, high in itertools.pairwise(points):
        if good(low.value) <= good(value) <= good(high.value):
            share = (good(value) - good(low.value)) / (good(high.value) - good(low.value))
            pct = low.percentile + share * (high.percentile - low.percentile)
            gap = ""
            skipped = [p for p in table.missing_percentiles if low.percentile < p < high.percentile]
            if skipped:
                names = ", ".join(_ordinal(p) for p in skipped)
                gap = f"; interpolated across the missing {names} point{'s' * (len(skipped) > 1)}"
            return pct, None, f"at the {_ordinal(pct)} percentile (percentile table{gap})"
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
    t_score: float | None = None
    if table.mean is not None and table.sd is not None:
        raw = (value - table.mean) / table.sd
        z = -raw if table.lower_is_better else raw
        t_score = 50.0 + 10.0 * z
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
            f"about the {_ordinal(percentile)} percentile (normal approximation from mean "
            f"{_fmt(table.mean, table.unit)} {unit}, SD {_fmt(table.sd, table.unit)} {unit})"
        )
    else:
        method = Method.BANDS
    if band_text:
        parts.append(band_text)
    if z is not None and t_score is not None:
        parts.append(f"z = {z:+.2f}, T = {t_score:.0f}")
    message = f"{_fmt(value, table.unit)} {unit}: " + "; ".join(parts)
    return Rating(
        protocol=table.protocol,
        population=table.id,
        time_s=time_s,
        method=method,
        percentile=percentile,
        band=band,
        out_of_range=out_of_range,
        z=z,
        t_score=t_score,
        message=message,
        citation=table.citation,
        timing_method=table.timing_method,
    )
