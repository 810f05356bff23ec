"""Norm files: the TOML schema of a table, checked field by field, and loading a folder of them.

One TOML file per table (format in README.md beside this module). Every problem in every file
is collected before anything is refused, so a coach fixing a file sees them all at once.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from pathlib import Path

from drills._checker import MISSING, Checker, parse_checked, read_utf8, toml_type
from drills._toml_lines import FieldPath
from drills.errors import DrillError
from drills.norms.errors import NormFileError
from drills.norms.table import (
    Band,
    BandKind,
    NormTable,
    PercentilePoint,
    Sex,
    TimingMethod,
    Unit,
    ordinal,
)

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
                    f"{ordinal(low.percentile)} percentile point ({low.value:g}): "
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
