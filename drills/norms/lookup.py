"""Which norm tables apply to a drill, and the one table for a drill and a population."""

from __future__ import annotations

from collections.abc import Iterable

from drills.norms.errors import NormNotFound
from drills.norms.files import load_norms
from drills.norms.table import NormTable


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
