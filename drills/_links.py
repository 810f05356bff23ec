"""Checks between the drills of one folder: twins and mirrors must name each other back."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

from drills._toml_lines import LineLocator
from drills.errors import DrillError
from drills.model import Direction, Drill

_TWIN_DIRECTIONS = frozenset({Direction.FORWARD, Direction.BACKWARD})
_Report = Callable[[str, str], None]


def check_links(
    directory: Path,
    drills: Mapping[str, Drill],
    locators: Mapping[str, tuple[Path, LineLocator]],
) -> list[DrillError]:
    """Problems with `twin` and `mirror` links, reported on the file that makes the link.

    A one-way link is an error because reports pair the two drills from either side (the
    ratio page starts from the backward drill, the asymmetry page from either turn side).
    """
    errors: list[DrillError] = []
    for slug, drill in drills.items():
        path, locator = locators[slug]

        def report(
            key: str, message: str, path: Path = path, locator: LineLocator = locator
        ) -> None:
            errors.append(DrillError(str(path), key, message, locator.line_of((key,))))

        for key, target in (("twin", drill.twin), ("mirror", drill.mirror)):
            if target is None:
                continue
            other = drills.get(target)
            if other is None:
                report(key, f"no drill '{target}' in {directory}")
                continue
            back = other.twin if key == "twin" else other.mirror
            if back != slug:
                named = "nothing" if back is None else f"'{back}'"
                report(key, f"'{target}' names {named} as its {key}, not '{slug}'")
            elif key == "twin":
                _check_twin_pair(drill, other, report)
    return errors


def _check_twin_pair(drill: Drill, other: Drill, report: _Report) -> None:
    """Twins exist for the forward:backward ratio, which needs one of each over one distance."""
    if {drill.direction, other.direction} != _TWIN_DIRECTIONS:
        report(
            "twin",
            f"twins must be one forward and one backward drill; '{drill.slug}' is"
            f" {drill.direction}, '{other.slug}' is {other.direction}",
        )
    if not math.isclose(drill.distance_m, other.distance_m, abs_tol=1e-6):
        report(
            "twin",
            f"twins must time the same distance; '{drill.slug}' times {drill.distance_m:g} m,"
            f" '{other.slug}' {other.distance_m:g} m",
        )
