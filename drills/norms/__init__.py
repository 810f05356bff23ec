"""Published norm tables as data files, and rating a time against one of them.

One TOML file per table in this folder (format described in README.md beside this file).
A table belongs to one protocol and one population; it answers to its `protocol` name and to
every drill slug in its `drills` list, exactly (no prefix matching), so the left and right
pro-agility drills share one table only because the file says so.

The parts: `table` (what a table is), `files` (its file format and loading), `lookup` (the
tables that apply to a drill) and `rating` (a time against one table). Callers import from
here.
"""

from drills.norms.errors import NormFileError, NormNotFound, NormsError
from drills.norms.files import (
    MISSING_MARKS,
    NORMS_DIR,
    SUPPORTED_FORMATS,
    load_norm,
    load_norm_text,
    load_norms,
)
from drills.norms.lookup import find_norm, norms_for
from drills.norms.rating import OutOfRange, Rating, rate
from drills.norms.table import (
    Band,
    BandKind,
    Method,
    NormTable,
    PercentilePoint,
    Sex,
    TimingMethod,
    Unit,
)

__all__ = [
    "MISSING_MARKS",
    "NORMS_DIR",
    "SUPPORTED_FORMATS",
    "Band",
    "BandKind",
    "Method",
    "NormFileError",
    "NormNotFound",
    "NormTable",
    "NormsError",
    "OutOfRange",
    "PercentilePoint",
    "Rating",
    "Sex",
    "TimingMethod",
    "Unit",
    "find_norm",
    "load_norm",
    "load_norm_text",
    "load_norms",
    "norms_for",
    "rate",
]
