"""Size limits of a drill file, checked before anything else is read.

Far above any real drill (drills/README.md, "Limits"), low enough that a typo (reps =
1000000000, count = 10**9) is an error instead of a run that never ends or a session
planner that builds a billion steps.
"""

from __future__ import annotations

from collections.abc import Mapping

from drills._checker import Checker
from drills._toml_lines import FieldPath

MAX_REPS = 50
MAX_ROLES = 32
MAX_SEGMENTS = 64
MAX_STIMULI = 200
"""Lights in a pod series (`[stimuli] count`)."""
MAX_LIST = 32
"""Entries in a list of a pod drill or reactive target (pods, colours, go, options)."""
MAX_BLOCKS = 100
"""Work and rest blocks of an interval drill."""
MAX_SECONDS = 3600.0
"""Any duration: time_limit_s, rest_s, rearm_s, a block's seconds, a hold or a wait."""
_SIZES: tuple[tuple[str, int], ...] = (
    ("roles", MAX_ROLES),
    ("segments", MAX_SEGMENTS),
    ("blocks", MAX_BLOCKS),
)
_SECTION_LISTS: dict[str, tuple[str, ...]] = {
    "stimuli": ("pods", "colours", "go"),
    "target_choice": ("options",),
}


def _too_long(c: Checker, value: object, path: FieldPath, most: int, what: str) -> bool:
    if isinstance(value, list | dict) and len(value) > most:
        c.error(path, f"at most {most} {what}, got {len(value)}")
        return True
    return False


def _too_many_seconds(c: Checker, table: Mapping[str, object], at: FieldPath) -> None:
    """Every `*_s` and `seconds` key of a table, at most MAX_SECONDS (the sign is checked
    where the field is read)."""
    for key, value in table.items():
        if not (key.endswith("_s") or key == "seconds"):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and value > MAX_SECONDS:
            c.error((*at, key), f"must be at most {MAX_SECONDS:g} seconds, got {value:g}")


def within_limits(c: Checker, data: Mapping[str, object]) -> bool:
    """Counts and durations within the limits; False when a list is too long to read at all
    (each of a million segments would give its own errors)."""
    readable = True
    for key, most in _SIZES:
        readable &= not _too_long(c, data.get(key), (key,), most, key)
    _too_many_seconds(c, data, ())
    for section, lists in _SECTION_LISTS.items():
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        for key in lists:
            readable &= not _too_long(c, table.get(key), (section, key), MAX_LIST, "entries")
        _too_many_seconds(c, table, (section,))
    start = data.get("start")
    if isinstance(start, dict):
        _too_many_seconds(c, start, ("start",))
    stimuli = data.get("stimuli")
    count = stimuli.get("count") if isinstance(stimuli, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count > MAX_STIMULI:
        c.error(("stimuli", "count"), f"must be at most {MAX_STIMULI}, got {count}")
    blocks = data.get("blocks")
    if readable and isinstance(blocks, list):
        for i, block in enumerate(blocks):
            if isinstance(block, dict):
                _too_many_seconds(c, block, ("blocks", i))
    return readable
