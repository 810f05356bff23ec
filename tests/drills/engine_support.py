"""Helpers of the run engine tests: a three-gate drill, crossings, reads of engine state."""

from __future__ import annotations

from drills.engine import Crossing, RunEngine, RunState
from drills.timing import Stamp

MS = 1_000
S = 1_000_000

THREE_GATES = """\
format = 1
slug = "sprint-20m"
name = "Sprint 20 m"
purpose = "Test drill with a split."
category = "linear"
direction = "backward"
time_limit_s = 8
[start]
type = "auto"
stance = "standing"
[roles.start]
kind = "gate"
position_m = 0
[roles.split_10m]
kind = "gate"
position_m = 10
[roles.finish]
kind = "gate"
position_m = 20
[[segments]]
from = "start"
to = "split_10m"
distance_m = 10
movement = "backward-run"
[[segments]]
from = "split_10m"
to = "finish"
distance_m = 10
movement = "backward-run"
"""


def at(role: str, mono_us: int) -> Crossing:
    return Crossing(role, Stamp(mono_us))


def pending(engine: RunEngine) -> tuple[Crossing, ...]:
    """Read through a call so the type checker does not narrow a property across calls."""
    return engine.pending


def state(engine: RunEngine) -> RunState:
    return engine.state
