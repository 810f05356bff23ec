"""Helpers of the overlap tests: simulated reps fed to a course, and what it made of them."""

from __future__ import annotations

from dataclasses import dataclass

from drills.loader import load_library
from drills.model import Drill
from drills.overlap import Assignment, Course, Runner
from drills.timing import Stamp

S = 1_000_000
SPACING_US = 1 * S


def at(seconds: float) -> Stamp:
    return Stamp(round(seconds * S))


def sprint_20m() -> Drill:
    """Start, 10 m, 20 m finish; 10 s time limit."""
    return load_library()["sprint-20m"]


@dataclass(frozen=True)
class Truth:
    """A simulated rep: who ran, and when they really crossed each gate (seconds)."""

    athlete: str
    times_s: dict[str, float]


def feed(course: Course, reps: list[Truth]) -> dict[int, str]:
    """Every start and crossing in time order; returns who really made each crossing."""
    events = sorted(
        (t, role, rep.athlete) for rep in reps for role, t in rep.times_s.items()
    )  # fmt: skip
    owner: dict[int, str] = {}
    for t, role, athlete in events:
        if role == "start":
            assert isinstance(course.start(athlete, at(t)), Runner)
        else:
            owner[course.crossing(role, at(t)).crossing] = athlete
    return owner


def times(course: Course, athlete: str) -> dict[str, float]:
    (run,) = [r for r in course.runs if r.runner.athlete == athlete]
    return {c.role: c.at.mono_us / S for c in run.crossings}


def wrong(course: Course, owner: dict[int, str]) -> list[Assignment]:
    return [
        a for a in course.assignments if a.runner is None or a.runner.athlete != owner[a.crossing]
    ]
