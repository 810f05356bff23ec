"""Day plan files without a server: parsing, the rotation rule, and every error at once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

import pytest

from server.catalog.service import Catalog
from server.days.definition import (
    MAX_ATHLETES,
    MAX_DRILLS,
    MAX_GROUPS,
    MAX_REPS,
    MAX_STATIONS,
    DayDefinition,
    DayPlanFileError,
    parse_day,
    parse_day_text,
)
from server.days.rotation import assignments, group_at, idle_stations, station_of
from server.plans.definition import Order

CATALOG = Catalog.load()
TODAY = date(2026, 12, 5)

GOOD = """
format = 1
name = "Pre-season testing"
date = "2026-12-06"
team = "U16"
countdown_s = 3

[[stations]]
station = "sprint-lane"
drills = [{drill = "sprint-10m", reps = 2, rest_s = 60, order = "athlete"}]

[[stations]]
station = "main"
drills = [{drill = "t-test"}, {drill = "backward-sprint-10m", reps = 1}]

[[groups]]
name = "A"
athletes = ["Ada", " Bo "]

[[groups]]
name = "B"
athletes = ["Cy"]
"""


def _errors(data: Any) -> list[str]:
    with pytest.raises(DayPlanFileError) as info:
        if isinstance(data, str):
            parse_day_text(data, "day.toml", CATALOG, TODAY)
        else:
            parse_day(data, "day.toml", CATALOG, TODAY)
    assert all(e.startswith("day.toml: ") for e in info.value.errors), "each names the source"
    return info.value.errors


def _day(stations: int, groups: int, athletes: int = 1) -> dict[str, Any]:
    return {
        "name": "Day",
        "stations": [{"station": f"s{i}", "drills": [{"drill": "sprint-10m", "reps": 1}]}
                     for i in range(stations)],
        "groups": [{"name": f"G{g}", "athletes": [f"A{g}-{a}" for a in range(athletes)]}
                   for g in range(groups)],
    }  # fmt: skip


def test_a_toml_day_plan_is_read_with_the_drills_defaults() -> None:
    day = parse_day_text(GOOD, "day.toml", CATALOG, TODAY)
    assert (day.name, day.day, day.team, day.countdown_s) == (
        "Pre-season testing", "2026-12-06", "U16", 3.0,
    )  # fmt: skip
    assert [s.station for s in day.stations] == ["sprint-lane", "main"]
    sprint, main = day.stations
    (d,) = sprint.drills
    assert (d.drill, d.reps, d.rest_s, d.order) == ("sprint-10m", 2, 60.0, Order.ATHLETE)
    t_test = CATALOG.get("t-test")
    assert (main.drills[0].reps, main.drills[0].rest_s) == (t_test.reps, t_test.rest_us / 1e6)
    assert main.drills[0].order is Order.ROUND_ROBIN
    assert [(g.name, g.athletes) for g in day.groups] == [("A", ("Ada", "Bo")), ("B", ("Cy",))]
    assert day.rotations == 2
    assert DayDefinition.from_json(day.to_json()) == day


def test_json_gives_the_same_day_and_the_date_defaults_to_today() -> None:
    toml_day = parse_day_text(GOOD, "day.toml", CATALOG, TODAY)
    data = json.loads(toml_day.to_json())
    data["date"] = data.pop("day")
    data["stations"][1]["drills"][0] = {"drill": "t-test"}
    assert parse_day_text(json.dumps(data), "day.json", CATALOG, TODAY) == toml_day
    del data["date"]
    assert parse_day(data, "day.json", CATALOG, TODAY).day == "2026-12-05"
    # TOML's bare date works as well as a string.
    bare = GOOD.replace('date = "2026-12-06"', "date = 2026-12-07")
    assert parse_day_text(bare, "day.toml", CATALOG, TODAY).day == "2026-12-07"


def test_each_rotation_runs_the_stations_drills_for_the_group_there() -> None:
    day = parse_day_text(GOOD, "day.toml", CATALOG, TODAY)
    first = assignments(day, 1)
    assert [(a.station, a.group.name) for a in first] == [("sprint-lane", "A"), ("main", "B")]
    second = assignments(day, 2)
    assert [(a.station, a.group.name) for a in second] == [("sprint-lane", "B"), ("main", "A")]
    plan = second[1].plan
    assert plan.name == "Pre-season testing · rotation 2 · group A"
    assert (plan.team, plan.countdown_s) == ("U16", 3.0)
    assert [(b.drill, b.athletes) for b in plan.blocks] == [
        ("t-test", ("Ada", "Bo")), ("backward-sprint-10m", ("Ada", "Bo")),
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"rotation 3 is not in 1\.\.2"):
        assignments(day, 3)


def test_four_stations_three_groups_every_group_visits_every_station_once() -> None:
    day = parse_day(_day(4, 3), "day.toml", CATALOG, TODAY)
    assert day.rotations == 4
    visits: dict[str, list[str]] = {g.name: [] for g in day.groups}
    for r in range(1, 5):
        slots = assignments(day, r)
        assert len(slots) == 3, "three groups: three busy stations each rotation"
        assert len({a.station for a in slots}) == 3, "one group per station at a time"
        (idle,) = idle_stations(day, r)
        assert idle not in {a.station for a in slots}
        for a in slots:
            visits[a.group.name].append(a.station)
            assert a.plan.blocks[0].athletes == a.group.athletes
    for group, stations in visits.items():
        assert sorted(stations) == ["s0", "s1", "s2", "s3"], (group, stations)
    # The rule itself: rotation r puts group g at station (g + r - 1) mod S.
    assert visits["G0"] == ["s0", "s1", "s2", "s3"]
    assert visits["G2"] == ["s2", "s3", "s0", "s1"]
    assert [idle_stations(day, r) for r in range(1, 5)] == [["s3"], ["s0"], ["s1"], ["s2"]]
    for g in range(3):
        for r in range(1, 5):
            assert group_at(station_of(g, r, 4), r, 4, 3) == g


def test_every_problem_is_reported_at_once_with_its_field() -> None:
    errors = _errors("""
name = ""
colour = "red"
date = "5 Dec"
countdown_s = -1
format = 2
[[stations]]
station = "Sprint Lane"
drills = [{drill = "no-such-drill", reps = 0, pace = 1}, {drill = "sprint-10m", order = "x"}]
[[stations]]
station = "main"
drills = []
[[stations]]
station = "main"
drills = [{drill = "t-test", rest_s = "long"}]
[[groups]]
name = "A"
athletes = ["Ada", "Bo", ""]
size = 3
[[groups]]
name = "A"
athletes = ["Bo"]
""")
    fields = Counter(e.split(": ")[1] for e in errors)
    expected = {
        "colour", "date", "countdown_s", "format", "name",
        "stations[1].station", "stations[1].drills[1].drill", "stations[1].drills[1].reps",
        "stations[1].drills[1].pace", "stations[1].drills[2].order", "stations[2].drills",
        "stations[3].station", "stations[3].drills[1].rest_s",
        "groups[1].athletes[3]", "groups[1].size", "groups[2].name", "groups[2].athletes[1]",
    }  # fmt: skip
    assert set(fields) == expected, errors
    text = "\n".join(errors)
    assert "known drills: 505-left" in text and "sprint-10m" in text
    assert "groups[2].athletes[1]: Bo is listed already in group A (groups[1])" in text
    assert "stations[3].station: main is listed already as stations[2]" in text


def test_bad_text_and_a_non_table_are_one_clear_error() -> None:
    (error,) = _errors('name = "unclosed')
    assert "not valid TOML or JSON" in error
    (error,) = _errors([1, 2])
    assert "a day plan is a table of keys" in error
    errors = _errors({"name": "Day"})
    assert {e.split(": ")[1] for e in errors} == {"stations", "groups"}


def test_deep_nesting_and_huge_text_are_one_clear_error_not_a_crash() -> None:
    """As for session plans (the same reader, server/plans/definition.py load_plan_text)."""
    deep = "[" * 100_000 + "]" * 100_000
    for text in (f"a = {deep}", f'{{"a": {deep}}}'):
        (error,) = _errors(text)
        assert "nested more than 8 levels deep" in error
    (error,) = _errors({"name": "Day", "groups": [[[[[[[[[["Ada"]]]]]]]]]]})
    assert "nested more than 8 levels deep" in error
    (error,) = _errors("#" * 1_000_001)
    assert "longer than 1000000 characters" in error


def test_more_groups_than_stations_is_refused() -> None:
    (error,) = _errors(_day(2, 3))
    assert "groups: 3 groups for 2 stations" in error


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(_day(MAX_STATIONS + 1, 1)), "stations",
         f"at most {MAX_STATIONS} stations, not 21"),
        (lambda d: d.update(_day(MAX_GROUPS + 1, MAX_GROUPS + 1)), "groups",
         f"at most {MAX_GROUPS} groups, not 41"),
        (lambda d: d.update(groups=_day(1, 1, MAX_ATHLETES + 1)["groups"]), "groups[1].athletes",
         f"at most {MAX_ATHLETES} athlete names"),
        (lambda d: d["stations"][0].update(drills=[{"drill": "sprint-10m"}] * (MAX_DRILLS + 1)),
         "stations[1].drills", f"at most {MAX_DRILLS} drills"),
        (lambda d: d["stations"][0]["drills"][0].update(reps=MAX_REPS + 1),
         "stations[1].drills[1].reps", f"from 1 to {MAX_REPS}"),
        (lambda d: d.update(name="x" * 81), "name", "at most 80 characters"),
    ],
)  # fmt: skip
def test_bounds(change: Any, field: str, message: str) -> None:
    data = _day(2, 2)
    change(data)
    errors = _errors(data)
    assert any(e.startswith(f"day.toml: {field}: ") and message in e for e in errors), errors


def test_the_bounds_themselves_are_allowed() -> None:
    data = _day(MAX_STATIONS, MAX_STATIONS, 10)
    data["stations"][0]["drills"] = [{"drill": "sprint-10m", "reps": MAX_REPS}] * MAX_DRILLS
    day = parse_day(data, "day.toml", CATALOG, TODAY)
    assert day.rotations == MAX_STATIONS and len(day.stations[0].drills) == MAX_DRILLS
    big = parse_day(_day(1, 1, MAX_ATHLETES), "day.toml", CATALOG, TODAY)
    assert len(big.groups[0].athletes) == MAX_ATHLETES
