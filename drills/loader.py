"""Turn drill TOML files into validated Drill objects, reporting every problem at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drills._checker import MISSING, Checker, parse_checked, read_utf8, toml_type
from drills._course import derive_splits, parse_legs, parse_roles, parse_target_choice
from drills._links import check_links
from drills._sections import check_start_role, parse_blocks, parse_start, parse_stimuli
from drills._toml_lines import FieldPath, LineLocator
from drills.errors import DrillError, DrillFileError
from drills.limits import MAX_REPS, within_limits
from drills.model import (
    Category,
    Direction,
    Drill,
    IntervalBlock,
    Leg,
    PodStimuli,
    Role,
    Segment,
    StartSpec,
    StartType,
    TargetChoice,
    Timing,
)

SUPPORTED_FORMATS = frozenset({1})
DEFAULT_TIME_LIMIT_S = 30.0
DEFAULT_REARM_S = 0.5

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_TOP_KEYS = (
    "format",
    "slug",
    "name",
    "purpose",
    "category",
    "direction",
    "timing",
    "twin",
    "mirror",
    "source",
    "time_limit_s",
    "rearm_s",
    "reps",
    "rest_s",
    "familiarisation_reps",
    "start",
    "roles",
    "segments",
    "target_choice",
    "stimuli",
    "blocks",
)
# Sections that belong to one kind of drill only; anywhere else they are mistakes.
_ONLY_FOR: dict[Timing, tuple[tuple[str, ...], str]] = {
    Timing.GATES: (("stimuli", "blocks"), "in pod drills (stimuli) or interval drills (blocks)"),
    Timing.PODS: (
        ("segments", "target_choice", "blocks"),
        "in gate drills (segments, target_choice) or interval drills (blocks)",
    ),
    Timing.INTERVALS: (
        ("roles", "segments", "target_choice", "stimuli"),
        "in gate or pod drills; an interval drill runs on the clock alone, with no gates or pods",
    ),
}


@dataclass
class _Course:
    """What the timing-specific part of a file produced; empty parts stay at their defaults."""

    start: StartSpec | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    route: tuple[Leg, ...] = ()
    target_choice: TargetChoice | None = None
    stimuli: PodStimuli | None = None
    blocks: tuple[IntervalBlock, ...] = ()


def _check_slug(c: Checker, value: str | None, path: FieldPath) -> None:
    if value is not None and not _SLUG.match(value):
        c.error(path, f"'{value}' is not a valid slug (lowercase letters, digits, single dashes)")


def _link(c: Checker, data: Mapping[str, object], key: str, slug: str | None) -> str | None:
    value = c.string(data, key, (), required=False)
    _check_slug(c, value, (key,))
    if value is not None and value == slug:
        c.error((key,), f"a drill cannot be its own {key}")
    return value


def _gates(c: Checker, data: Mapping[str, object]) -> _Course | None:
    roles = parse_roles(c, data)
    choice = parse_target_choice(c, data, roles)
    start = parse_start(c, data, roles, required=True)
    raw_roles = data.get("roles")
    role_names = set(raw_roles) if isinstance(raw_roles, dict) else None
    if role_names is not None and choice is not None:
        role_names.add(choice[0])
    legs = parse_legs(c, data, role_names)
    if roles is None or legs is None:
        return None
    derived = derive_splits(c, legs, roles, choice)
    if derived is None:
        return None
    segments, target = derived
    if start is not None:
        check_start_role(c, start, segments[0].from_role, roles)
    return _Course(start, roles, segments, legs, target)


def _coach_started(c: Checker, start: StartSpec | None, timing: Timing) -> StartSpec | None:
    """Pod and interval drills have no start gate to break or stand in, so the coach starts them."""
    if start is not None and start.type is not StartType.COACH_GO:
        c.error(
            ("start", "type"),
            f"a {timing.value} drill starts on the coach's GO; '{start.type}' needs a start gate",
        )
        return None
    return start


def _pods(c: Checker, data: Mapping[str, object]) -> _Course | None:
    roles = parse_roles(c, data)
    start = _coach_started(c, parse_start(c, data, roles, required=False), Timing.PODS)
    stimuli = parse_stimuli(c, data, roles)
    if roles is None or stimuli is None:
        return None
    return _Course(start, roles, stimuli=stimuli)


def _intervals(c: Checker, data: Mapping[str, object]) -> _Course | None:
    start = _coach_started(c, parse_start(c, data, {}, required=False), Timing.INTERVALS)
    blocks = parse_blocks(c, data)
    return None if blocks is None else _Course(start, blocks=blocks)


_COURSE_READERS = {Timing.GATES: _gates, Timing.PODS: _pods, Timing.INTERVALS: _intervals}


def _reps(c: Checker, data: Mapping[str, object]) -> tuple[int, int, int] | None:
    """Reps, rest between them and how many of the first reps are only practice."""
    reps = c.integer(data, "reps", (), default=1)
    if reps is not None and reps < 1:
        c.error(("reps",), f"must be 1 or more, got {reps}")
        reps = None
    elif reps is not None and reps > MAX_REPS:
        c.error(("reps",), f"must be at most {MAX_REPS}, got {reps}")
        reps = None
    rest_us = c.seconds_us(data, "rest_s", (), default=0.0, allow_zero=True)
    familiarisation = c.integer(data, "familiarisation_reps", (), default=0)
    if familiarisation is not None and familiarisation < 0:
        c.error(("familiarisation_reps",), f"must be 0 or more, got {familiarisation}")
        familiarisation = None
    elif familiarisation is not None and reps is not None and familiarisation >= reps:
        c.error(
            ("familiarisation_reps",),
            f"must be less than reps ({familiarisation} >= {reps}): at least one rep must count",
        )
        familiarisation = None
    if reps is None or rest_us is None or familiarisation is None:
        return None
    return reps, rest_us, familiarisation


def _build(c: Checker, data: Mapping[str, object], expected_slug: str | None) -> Drill | None:
    if not within_limits(c, data):
        return None
    c.known_keys(data, _TOP_KEYS, ())
    fmt = c.get(data, "format", (), required=True)
    if fmt is not MISSING:
        if isinstance(fmt, bool) or not isinstance(fmt, int):
            c.error(("format",), f"must be an integer, not {toml_type(fmt)}")
        elif fmt not in SUPPORTED_FORMATS:
            known = ", ".join(str(f) for f in sorted(SUPPORTED_FORMATS))
            message = f"format {fmt} is not supported by this version (supports {known})"
            c.error(("format",), message)
    slug = c.string(data, "slug", ())
    _check_slug(c, slug, ("slug",))
    if slug is not None and expected_slug is not None and slug != expected_slug:
        c.error(("slug",), f"'{slug}' must equal the file name stem '{expected_slug}'")
    name = c.string(data, "name", ())
    purpose = c.string(data, "purpose", ())
    category = c.choice(data, "category", (), Category)
    direction = c.choice(data, "direction", (), Direction)
    timing = c.choice(data, "timing", (), Timing) if "timing" in data else Timing.GATES
    twin = _link(c, data, "twin", slug)
    mirror = _link(c, data, "mirror", slug)
    source = c.string(data, "source", (), required=False)
    time_limit_us = c.seconds_us(data, "time_limit_s", (), default=DEFAULT_TIME_LIMIT_S)
    rearm_us = c.seconds_us(data, "rearm_s", (), default=DEFAULT_REARM_S, allow_zero=True)
    reps = _reps(c, data)
    course: _Course | None = None
    if timing is not None:
        keys, why = _ONLY_FOR[timing]
        c.only_for(data, keys, (), f'{why} (this drill has timing = "{timing.value}")')
        course = _COURSE_READERS[timing](c, data)
    if (
        c.errors
        or slug is None
        or name is None
        or purpose is None
        or category is None
        or direction is None
        or timing is None
        or course is None
        or course.start is None
        or time_limit_us is None
        or rearm_us is None
        or reps is None
    ):
        return None
    return Drill(
        slug=slug,
        name=name,
        purpose=purpose,
        category=category,
        direction=direction,
        twin=twin,
        source=source,
        time_limit_us=time_limit_us,
        rearm_us=rearm_us,
        start=course.start,
        roles=course.roles,
        segments=course.segments,
        timing=timing,
        mirror=mirror,
        reps=reps[0],
        rest_us=reps[1],
        familiarisation_reps=reps[2],
        route=course.route,
        target_choice=course.target_choice,
        stimuli=course.stimuli,
        blocks=course.blocks,
    )


def _parse(text: str, source_name: str, expected_slug: str | None) -> tuple[Drill | None, Checker]:
    try:
        return parse_checked(text, source_name, lambda c, data: _build(c, data, expected_slug))
    except RecursionError:
        # tomllib reads nested arrays and inline tables recursively: a few hundred levels
        # (a = [[[[...]]]]) exhaust the stack. No drill nests more than 3 deep.
        c = Checker(source_name, text)
        c.errors.append(DrillError(source_name, "", "not valid TOML: nested too deeply"))
        return None, c


def load_drill_text(text: str, source_name: str, *, expected_slug: str | None = None) -> Drill:
    """Validate drill TOML held in memory (an upload, a test), naming it `source_name`.

    `expected_slug` enforces the slug-equals-file-stem rule when the text came from a file.
    """
    drill, c = _parse(text, source_name, expected_slug)
    if drill is None:
        raise DrillFileError(c.errors)
    return drill


def _read(path: Path) -> tuple[Drill | None, list[DrillError], LineLocator | None]:
    text, errors = read_utf8(path)
    if text is None:
        return None, errors, None
    drill, c = _parse(text, str(path), path.stem)
    return drill, c.errors, c.locator


def load_drill(path: str | Path) -> Drill:
    """Load one drill file; its slug must equal the file name stem so links never drift."""
    drill, errors, _ = _read(Path(path))
    if drill is None:
        raise DrillFileError(errors)
    return drill


def _check_directory(directory: Path) -> tuple[dict[str, Drill], list[DrillError]]:
    """Load every *.toml in a folder and check the links between drills (twins, mirrors)."""
    drills: dict[str, Drill] = {}
    locators: dict[str, tuple[Path, LineLocator]] = {}
    errors: list[DrillError] = []
    for path in sorted(directory.glob("*.toml")):
        drill, file_errors, locator = _read(path)
        errors.extend(file_errors)
        if drill is not None and locator is not None:
            drills[drill.slug] = drill
            locators[drill.slug] = (path, locator)
    errors.extend(check_links(directory, drills, locators))
    return drills, errors


def load_library(directory: str | Path | None = None) -> dict[str, Drill]:
    """Load a whole drill folder (default: the built-in library), keyed by slug.

    All-or-nothing: a library with one broken file raises, listing every problem, because a
    session silently missing a drill is worse than a clear error at start-up.
    """
    folder = LIBRARY_DIR if directory is None else Path(directory)
    if not folder.is_dir():
        raise DrillFileError([DrillError(str(folder), "", "not a directory")])
    drills, errors = _check_directory(folder)
    if errors:
        raise DrillFileError(errors)
    return drills


def check_paths(paths: Iterable[str | Path]) -> list[DrillError]:
    """Every problem in the given files and folders; an empty list means all is well.

    Folders are checked as libraries (twins must resolve inside them); single files are
    checked on their own, since their twin may live elsewhere.
    """
    errors: list[DrillError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            errors.extend(_check_directory(path)[1])
        elif path.is_file():
            errors.extend(_read(path)[1])
        else:
            errors.append(DrillError(str(path), "", "no such file or directory"))
    return errors
