"""Day plan files: parse and validate a testing day (TOML or JSON).

A day plan lists the stations in rotation order, what each runs, and the groups of athletes;
who goes where in which rotation is rotation.py's. As in plan files
(server/plans/definition.py), every problem is reported at once, naming the source and the
field (`day.toml: groups[2].athletes[1]: ...`, lists counted from 1), so a coach fixes a
file in one go.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from server.catalog.service import Catalog
from server.errors import InvalidInputError
from server.plans.definition import (
    DEFAULT_COUNTDOWN_S,
    DEFAULT_TEAM,
    MAX_DEPTH,
    Order,
    depth,
    drill_of,
    load_plan_text,
    too_deep,
    unknown_keys,
)
from server.stations.registry import MAIN, MAX_NAME, NAME_CHARS

# Bounds: a big testing day has 6 stations and 40 athletes; these leave room and bound what
# one request can make (every rotation stores a plan per station).
MAX_STATIONS = 20
MAX_GROUPS = 40
MAX_ATHLETES = 200
MAX_DRILLS = 10
MAX_REPS = 50
# Plan names are "<day> · rotation <r> · group <g>" and a plan's name holds 160 characters.
MAX_DAY_NAME = 80
MAX_GROUP_NAME = 30
MAX_ATHLETE_NAME = 120  # as the athlete table holds it

TOP_KEYS = frozenset({"format", "name", "date", "team", "countdown_s", "stations", "groups"})
STATION_KEYS = frozenset({"station", "drills"})
DRILL_KEYS = frozenset({"drill", "reps", "rest_s", "order"})
GROUP_KEYS = frozenset({"name", "athletes"})

Err = Callable[[str, str], None]


class DayPlanFileError(InvalidInputError):
    """A day plan that cannot be used; `errors` lists every problem as 'source: field: message'."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        problems = list(errors)
        super().__init__("\n  ".join([f"{source}: invalid day plan", *problems]), problems, source)


@dataclass(frozen=True)
class StationDrill:
    """One drill a station runs for each group that comes by; defaults resolved from the drill."""

    drill: str
    reps: int
    rest_s: float
    order: Order


@dataclass(frozen=True)
class DayStation:
    station: str
    """A station's name; "main" is the main station."""
    drills: tuple[StationDrill, ...]


@dataclass(frozen=True)
class Group:
    name: str
    athletes: tuple[str, ...]


@dataclass(frozen=True)
class DayDefinition:
    name: str
    day: str
    """The club's day, an ISO date."""
    team: str
    countdown_s: float
    stations: tuple[DayStation, ...]
    groups: tuple[Group, ...]

    @property
    def rotations(self) -> int:
        """Every group visits every station once: one rotation per station."""
        return len(self.stations)

    def to_json(self) -> str:
        # An Order is a str: JSON stores its value.
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DayDefinition:
        """Read back what to_json stored (already validated, so no catalogue needed)."""
        data = json.loads(text)
        stations = tuple(
            DayStation(s["station"], tuple(
                StationDrill(d["drill"], int(d["reps"]), float(d["rest_s"]), Order(d["order"]))
                for d in s["drills"]
            ))
            for s in data["stations"]
        )  # fmt: skip
        groups = tuple(Group(g["name"], tuple(g["athletes"])) for g in data["groups"])
        return cls(data["name"], data["day"], data["team"], float(data["countdown_s"]),
                   stations, groups)  # fmt: skip


# -- parsing --------------------------------------------------------------------------------


def parse_day_text(
    text: str, source: str, catalog: Catalog, today: date | None = None
) -> DayDefinition:
    """TOML (a file) or JSON (the API) text; JSON is recognised by its leading brace. Bounded
    in length and nesting as session plans are."""
    return parse_day(load_plan_text(text, source, DayPlanFileError), source, catalog, today)


def parse_day(data: Any, source: str, catalog: Catalog, today: date | None = None) -> DayDefinition:
    """A validated day plan; `today` (the server's local date by default) when `date` is left
    out: the day is the club's, not UTC's."""
    errors: list[str] = []

    def err(field: str, message: str) -> None:
        errors.append(f"{source}: {field}: {message}")

    if not isinstance(data, Mapping):
        raise DayPlanFileError(source, [f"{source}: a day plan is a table of keys"])
    if depth(data) > MAX_DEPTH:  # a JSON body arrives here already decoded
        raise DayPlanFileError(source, [too_deep(source)])
    unknown_keys(data, TOP_KEYS, "", err)
    if "format" in data and data["format"] != 1:
        err("format", f"must be 1, not {data['format']!r}")
    name = _text(data.get("name"), "name", MAX_DAY_NAME, err, required=True)
    team = _text(data.get("team", DEFAULT_TEAM), "team", MAX_ATHLETE_NAME, err) or DEFAULT_TEAM
    day = _day(data.get("date"), today or date.today(), err)
    countdown_s = _seconds(data.get("countdown_s", DEFAULT_COUNTDOWN_S), "countdown_s", err)
    stations = _stations(data.get("stations"), catalog, err)
    groups = _groups(data.get("groups"), err)
    n_stations, n_groups = _count(data.get("stations")), _count(data.get("groups"))
    if n_stations and n_groups > n_stations:
        where = f"{n_stations} station{'s' if n_stations > 1 else ''}"
        err("groups", f"{n_groups} groups for {where}: a rotation puts one "
                      "group on each station, so no more groups than stations")  # fmt: skip
    if errors:
        raise DayPlanFileError(source, errors)
    return DayDefinition(name, day, team, countdown_s, tuple(stations), tuple(groups))


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _text(value: Any, field: str, limit: int, err: Err, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        err(field, "required: a non-empty string" if required else "must be a non-empty string")
        return ""
    if len(value.strip()) > limit:
        err(field, f"at most {limit} characters, not {len(value.strip())}")
        return ""
    if any(ord(ch) < 32 for ch in value):
        err(field, "must be one line without control characters")
        return ""
    return value.strip()


def _day(value: Any, today: date, err: Err) -> str:
    if value is None:
        return today.isoformat()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()  # TOML's bare date: date = 2026-12-05
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    err("date", f"must be a date like 2026-12-05, not {value!r}")
    return today.isoformat()


def _seconds(value: Any, field: str, err: Err) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        err(field, f"must be a number of seconds, not {value!r}")
        return 0.0
    if value < 0:
        err(field, f"must be 0 or more, not {value}")
        return 0.0
    return float(value)


def _list(value: Any, field: str, what: str, limit: int, err: Err) -> list[Any]:
    """A non-empty list of at most `limit` items; `what` names them (plural)."""
    if not isinstance(value, list) or not value:
        err(field, f"required: a list of 1 to {limit} {what}")
        return []
    if len(value) > limit:
        err(field, f"at most {limit} {what}, not {len(value)}")
        return []
    return value


def _stations(raw: Any, catalog: Catalog, err: Err) -> list[DayStation]:
    out: list[DayStation] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(_list(raw, "stations", "stations", MAX_STATIONS, err), 1):
        at = f"stations[{i}]"
        if not isinstance(item, Mapping):
            err(at, "must be a table")
            continue
        ok = unknown_keys(item, STATION_KEYS, at, err)
        name = item.get("station")
        if not (isinstance(name, str) and 1 <= len(name) <= MAX_NAME and set(name) <= NAME_CHARS):
            err(f"{at}.station", f"a station's name: 1 to {MAX_NAME} of a-z, 0-9, - and _ "
                                 f"({MAIN!r} is the main station), not {name!r}")  # fmt: skip
            ok = False
        elif name in seen:
            err(f"{at}.station", f"{name} is listed already as {seen[name]}: a station takes "
                                 "one group at a time")  # fmt: skip
            ok = False
        else:
            seen[name] = at
        drills = [
            _drill(d, f"{at}.drills[{j}]", catalog, err)
            for j, d in enumerate(_list(item.get("drills"), f"{at}.drills", "drills",
                                        MAX_DRILLS, err), 1)
        ]  # fmt: skip
        if ok and drills and all(d is not None for d in drills):
            out.append(DayStation(str(name), tuple(d for d in drills if d is not None)))
    return out


def _drill(raw: Any, at: str, catalog: Catalog, err: Err) -> StationDrill | None:
    if not isinstance(raw, Mapping):
        err(at, 'must be a table like {drill = "sprint-10m", reps = 2}')
        return None
    ok = unknown_keys(raw, DRILL_KEYS, at, err)
    drill = drill_of(raw, at, catalog, err)
    reps = raw.get("reps", drill.reps if drill else 1)
    if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= MAX_REPS:
        err(f"{at}.reps", f"must be a whole number from 1 to {MAX_REPS}, not {reps!r}")
        ok = False
    rest_s = _seconds(raw.get("rest_s", drill.rest_us / 1e6 if drill else 0.0), f"{at}.rest_s",
                      err)  # fmt: skip
    try:
        order = Order(raw.get("order", Order.ROUND_ROBIN.value))
    except ValueError:
        known = ", ".join(repr(o.value) for o in Order)
        err(f"{at}.order", f"must be one of {known}, not {raw.get('order')!r}")
        order, ok = Order.ROUND_ROBIN, False
    if not ok or drill is None:
        return None
    return StationDrill(drill.slug, reps, rest_s, order)


def _groups(raw: Any, err: Err) -> list[Group]:
    out: list[Group] = []
    names: set[str] = set()
    member_of: dict[str, str] = {}  # athlete -> where they are listed first
    for i, item in enumerate(_list(raw, "groups", "groups", MAX_GROUPS, err), 1):
        at = f"groups[{i}]"
        if not isinstance(item, Mapping):
            err(at, "must be a table")
            continue
        ok = unknown_keys(item, GROUP_KEYS, at, err)
        name = _text(item.get("name"), f"{at}.name", MAX_GROUP_NAME, err, required=True)
        if name and name in names:
            err(f"{at}.name", f"group {name!r} is named twice")
            ok = False
        names.add(name)
        athletes: list[str] = []
        raw_athletes = _list(item.get("athletes"), f"{at}.athletes", "athlete names",
                             MAX_ATHLETES, err)  # fmt: skip
        ok = ok and bool(raw_athletes)
        for j, value in enumerate(raw_athletes, 1):
            field = f"{at}.athletes[{j}]"
            athlete = _text(value, field, MAX_ATHLETE_NAME, err, required=True)
            if not athlete:
                ok = False
            elif athlete in member_of:
                err(field, f"{athlete} is listed already in {member_of[athlete]}: an athlete "
                           "belongs to one group")  # fmt: skip
                ok = False
            else:
                member_of[athlete] = f"group {name} ({at})" if name else at
                athletes.append(athlete)
        if ok and name:
            out.append(Group(name, tuple(athletes)))
    return out
