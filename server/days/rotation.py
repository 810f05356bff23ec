"""The rotation rule of a testing day, pure: which group is at which station in which rotation,
and the plan each busy station runs. Tested without a server (no database, no clock).

With S stations and G groups (G <= S), rotation r (1..S) puts group g (counted from 0) at
station (g + r - 1) mod S: over S rotations every group visits every station once, and
S - G stations are idle in each rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.days.definition import DayDefinition, Group
from server.plans.definition import Block, PlanDefinition


@dataclass(frozen=True)
class Assignment:
    """Who is at one station in one rotation, and the plan the station runs for them."""

    station: str
    group: Group
    plan: PlanDefinition


def station_of(group: int, rotation: int, stations: int) -> int:
    """Where group `group` (from 0) is in rotation `rotation` (from 1): a station index."""
    return (group + rotation - 1) % stations


def group_at(station: int, rotation: int, stations: int, groups: int) -> int | None:
    """Which group (from 0) is at station `station` in `rotation`; None: the station is idle."""
    group = (station - rotation + 1) % stations
    return group if group < groups else None


def assignments(day: DayDefinition, rotation: int) -> list[Assignment]:
    """Every busy station of one rotation (1..S), in station order, with the plan it runs:
    the station's drills for the group's athletes, named after the day, rotation and group."""
    if not 1 <= rotation <= day.rotations:
        raise ValueError(f"rotation {rotation} is not in 1..{day.rotations}")
    out: list[Assignment] = []
    for index, station in enumerate(day.stations):
        g = group_at(index, rotation, day.rotations, len(day.groups))
        if g is None:
            continue
        group = day.groups[g]
        blocks = tuple(
            Block(drill=d.drill, reps=d.reps, rest_s=d.rest_s, order=d.order,
                  athletes=group.athletes)
            for d in station.drills
        )  # fmt: skip
        name = f"{day.name} · rotation {rotation} · group {group.name}"
        out.append(Assignment(station.station, group,
                              PlanDefinition(name, day.team, day.countdown_s, blocks)))  # fmt: skip
    return out


def idle_stations(day: DayDefinition, rotation: int) -> list[str]:
    """The stations no group is at in this rotation."""
    busy = {a.station for a in assignments(day, rotation)}
    return [s.station for s in day.stations if s.station not in busy]
