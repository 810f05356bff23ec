"""Turn drill TOML files into validated Drill objects, reporting every problem at once."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from drills._checker import MISSING, Checker, toml_type
from drills._toml_lines import FieldPath, LineLocator, decode_error_line
from drills.errors import DrillError, DrillFileError
from drills.model import (
    Category,
    Direction,
    Drill,
    Movement,
    Role,
    RoleKind,
    Segment,
    StartSpec,
    StartType,
)

SUPPORTED_FORMATS = frozenset({1})
DEFAULT_TIME_LIMIT_S = 30.0
DEFAULT_REARM_S = 0.5
# Known start types that a later format will support: named so the error can say "not yet"
# instead of "unknown", which tells a coach the file is ahead of the software, not wrong.
PLANNED_START_TYPES = frozenset({"hold", "coach-go", "reactive"})

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_TOP_KEYS = (
    "format",
    "slug",
    "name",
    "purpose",
    "category",
    "direction",
    "twin",
    "source",
    "time_limit_s",
    "rearm_s",
    "start",
    "roles",
    "segments",
)
_START_KEYS = ("type", "stance")
_ROLE_KEYS = ("kind", "position_m")
_SEGMENT_KEYS = ("name", "from", "to", "distance_m", "movement")


def _check_slug(c: Checker, value: str | None, path: FieldPath) -> None:
    if value is not None and not _SLUG.match(value):
        c.error(path, f"'{value}' is not a valid slug (lowercase letters, digits, single dashes)")


def _start(c: Checker, data: Mapping[str, object]) -> StartSpec | None:
    table = c.table(data, "start", ())
    if table is None:
        return None
    c.known_keys(table, _START_KEYS, ("start",))
    raw_type = c.string(table, "type", ("start",))
    stance = c.string(table, "stance", ("start",))
    start_type: StartType | None = None
    if raw_type is not None:
        if raw_type in PLANNED_START_TYPES:
            c.error(
                ("start", "type"),
                f"start type '{raw_type}' is not supported yet (this version supports 'auto')",
            )
        else:
            try:
                start_type = StartType(raw_type)
            except ValueError:
                known = ", ".join([*(t.value for t in StartType), *sorted(PLANNED_START_TYPES)])
                c.error(("start", "type"), f"unknown start type '{raw_type}' (known: {known})")
    if start_type is None or stance is None:
        return None
    return StartSpec(start_type, stance)


def _roles(c: Checker, data: Mapping[str, object]) -> dict[str, Role] | None:
    table = c.table(data, "roles", ())
    if table is None:
        return None
    if not table:
        c.error(("roles",), "needs at least one role")
        return None
    roles: dict[str, Role] = {}
    ok = True
    for name, raw in table.items():
        at: FieldPath = ("roles", name)
        if not _ROLE_NAME.match(name):
            c.error(at, f"role name '{name}' must be lowercase letters, digits and underscores")
            ok = False
        if not isinstance(raw, dict):
            c.error(at, f"must be a table, not {toml_type(raw)}")
            ok = False
            continue
        c.known_keys(raw, _ROLE_KEYS, at)
        kind = c.choice(raw, "kind", at, RoleKind)
        position = c.number(raw, "position_m", at)
        if kind is None or position is None:
            ok = False
            continue
        roles[name] = Role(name, kind, position)
    return roles if ok else None


def _segments(
    c: Checker, data: Mapping[str, object], role_names: set[str] | None
) -> tuple[Segment, ...] | None:
    raw_list = c.get(data, "segments", (), required=True)
    if raw_list is MISSING:
        return None
    if not isinstance(raw_list, list):
        c.error(("segments",), f"must be an array of tables, not {toml_type(raw_list)}")
        return None
    if not raw_list:
        c.error(("segments",), "needs at least one segment")
        return None
    segments: list[Segment | None] = []
    ends: list[tuple[str | None, str | None]] = []
    for i, raw in enumerate(raw_list):
        at: FieldPath = ("segments", i)
        if not isinstance(raw, dict):
            c.error(at, f"must be a table, not {toml_type(raw)}")
            segments.append(None)
            ends.append((None, None))
            continue
        c.known_keys(raw, _SEGMENT_KEYS, at)
        src = c.string(raw, "from", at)
        dst = c.string(raw, "to", at)
        for key, role in (("from", src), ("to", dst)):
            if role is not None and role_names is not None and role not in role_names:
                known = ", ".join(sorted(role_names))
                c.error((*at, key), f"no role named '{role}' (roles: {known})")
        ends.append((src, dst))
        distance = c.number(raw, "distance_m", at)
        if distance is not None and distance <= 0:
            c.error((*at, "distance_m"), f"must be greater than 0, got {distance:g}")
            distance = None
        movement = c.choice(raw, "movement", at, Movement)
        name = c.string(raw, "name", at, required=False)
        if name is None and "name" not in raw and src is not None and dst is not None:
            name = f"{src}-{dst}"
        if src is None or dst is None or distance is None or movement is None or name is None:
            segments.append(None)
        else:
            segments.append(Segment(name, src, dst, distance, movement))
    for i in range(1, len(ends)):
        prev_to, this_from = ends[i - 1][1], ends[i][0]
        if prev_to is not None and this_from is not None and prev_to != this_from:
            c.error(
                ("segments", i, "from"),
                f"starts at '{this_from}' but segments[{i - 1}] ends at '{prev_to}';"
                " segments must form a chain",
            )
    seen: dict[str, int] = {}
    for i, seg in enumerate(segments):
        if seg is None:
            continue
        if seg.name in seen:
            c.error(("segments", i, "name"), f"'{seg.name}' is also segments[{seen[seg.name]}]")
        seen.setdefault(seg.name, i)
    complete = [s for s in segments if s is not None]
    return tuple(complete) if len(complete) == len(segments) else None


def _build(c: Checker, data: Mapping[str, object], expected_slug: str | None) -> Drill | None:
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
    twin = c.string(data, "twin", (), required=False)
    _check_slug(c, twin, ("twin",))
    if twin is not None and twin == slug:
        c.error(("twin",), "a drill cannot be its own twin")
    source = c.string(data, "source", (), required=False)
    time_limit_s = c.number(data, "time_limit_s", (), default=DEFAULT_TIME_LIMIT_S)
    if time_limit_s is not None and time_limit_s <= 0:
        c.error(("time_limit_s",), f"must be greater than 0, got {time_limit_s:g}")
    rearm_s = c.number(data, "rearm_s", (), default=DEFAULT_REARM_S)
    if rearm_s is not None and rearm_s < 0:
        c.error(("rearm_s",), f"must be 0 or more, got {rearm_s:g}")
    start = _start(c, data)
    roles = _roles(c, data)
    raw_roles = data.get("roles")
    role_names = set(raw_roles) if isinstance(raw_roles, dict) else None
    segments = _segments(c, data, role_names)
    if (
        c.errors
        or slug is None
        or name is None
        or purpose is None
        or category is None
        or direction is None
        or start is None
        or roles is None
        or segments is None
        or time_limit_s is None
        or rearm_s is None
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
        time_limit_us=round(time_limit_s * 1_000_000),
        rearm_us=round(rearm_s * 1_000_000),
        start=start,
        roles=roles,
        segments=segments,
    )


def _parse(text: str, source_name: str, expected_slug: str | None) -> tuple[Drill | None, Checker]:
    c = Checker(source_name, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = decode_error_line(str(exc), c.locator.line_count)
        c.errors.append(DrillError(source_name, "", f"not valid TOML: {exc}", line))
        return None, c
    drill = _build(c, data, expected_slug)
    # Reading order is how a coach fixes a file; problems without a line (missing top-level
    # fields) come first.
    c.errors.sort(key=lambda e: (e.line is not None, e.line or 0))
    return drill, c


def load_drill_text(text: str, source_name: str, *, expected_slug: str | None = None) -> Drill:
    """Validate drill TOML held in memory (an upload, a test), naming it `source_name`.

    `expected_slug` enforces the slug-equals-file-stem rule when the text came from a file.
    """
    drill, c = _parse(text, source_name, expected_slug)
    if drill is None:
        raise DrillFileError(c.errors)
    return drill


def _read(path: Path) -> tuple[Drill | None, list[DrillError], LineLocator | None]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return None, [DrillError(str(path), "", f"cannot read: {exc.strerror or exc}")], None
    except UnicodeDecodeError as exc:
        return None, [DrillError(str(path), "", f"not UTF-8 text: {exc.reason}")], None
    drill, c = _parse(text, str(path), path.stem)
    return drill, c.errors, c.locator


def load_drill(path: str | Path) -> Drill:
    """Load one drill file; its slug must equal the file name stem so links never drift."""
    drill, errors, _ = _read(Path(path))
    if drill is None:
        raise DrillFileError(errors)
    return drill


def _check_directory(directory: Path) -> tuple[dict[str, Drill], list[DrillError]]:
    """Load every *.toml in a folder and check the links between drills (twins)."""
    drills: dict[str, Drill] = {}
    locators: dict[str, tuple[Path, LineLocator]] = {}
    errors: list[DrillError] = []
    for path in sorted(directory.glob("*.toml")):
        drill, file_errors, locator = _read(path)
        errors.extend(file_errors)
        if drill is not None and locator is not None:
            drills[drill.slug] = drill
            locators[drill.slug] = (path, locator)
    for slug, drill in drills.items():
        if drill.twin is None:
            continue
        path, locator = locators[slug]
        line = locator.line_of(("twin",))
        twin = drills.get(drill.twin)
        if twin is None:
            message = f"no drill '{drill.twin}' in {directory}"
            errors.append(DrillError(str(path), "twin", message, line))
        elif twin.twin is not None and twin.twin != slug:
            message = f"'{drill.twin}' names '{twin.twin}' as its twin, not '{slug}'"
            errors.append(DrillError(str(path), "twin", message, line))
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
