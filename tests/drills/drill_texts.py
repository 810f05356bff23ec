"""Drill texts and helpers shared by the validation tests: small valid files to break."""

from __future__ import annotations

import pytest

from drills.errors import DrillError, DrillFileError
from drills.loader import load_drill_text

SHUTTLE = """\
format = 1
slug = "shuttle"
name = "Shuttle"
purpose = "Out to a turn line and back through the start gate."
category = "change-of-direction"
direction = "mixed"
reps = 3
rest_s = 30
familiarisation_reps = 1

[start]
type = "auto"
stance = "standing"

[roles.start]
kind = "gate"
x_m = 0
y_m = 0

[roles.turn]
kind = "marker"
y_m = 5

[[segments]]
name = "out"
from = "start"
to = "turn"
distance_m = 5
movement = "sprint"
turn = "left"

[[segments]]
name = "back"
from = "turn"
to = "start"
distance_m = 5
movement = "backpedal"
"""

INTERVALS = """\
format = 1
slug = "walks"
name = "Walks"
purpose = "Backward walking blocks."
category = "interval"
direction = "backward"
timing = "intervals"
reps = 4

[[blocks]]
kind = "work"
seconds = 30
movement = "backward-walk"

[[blocks]]
kind = "rest"
seconds = 30
"""

PODS = """\
format = 1
slug = "pods"
name = "Pods"
purpose = "Touch the green ones."
category = "reactive"
direction = "mixed"
timing = "pods"

[roles.home]
kind = "pod"
x_m = 0
y_m = 0

[roles.p1]
kind = "pod"
x_m = -1
y_m = 1

[roles.p2]
kind = "pod"
x_m = 1
y_m = 1

[stimuli]
count = 10
home = "home"
colours = ["green", "red"]
go = ["green"]
foreperiod_min_s = 1
foreperiod_max_s = 2
window_s = 1.5
"""

REACTIVE = 'type = "reactive"\nstance = "standing"\nforeperiod_min_s = 1\nforeperiod_max_s = 3\n'


def errors_of(text: str, name: str = "drill.toml") -> list[DrillError]:
    with pytest.raises(DrillFileError) as info:
        load_drill_text(text, name)
    return info.value.errors


def line_of(text: str, marker: str) -> int:
    """1-based line of the first line containing `marker`, so expectations survive edits."""
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in text")


def sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


Y = """\
format = 1
slug = "y"
name = "Y"
purpose = "Cut to the lit target."
category = "reactive"
direction = "forward"

[start]
type = "auto"
stance = "standing"

[roles.start]
kind = "gate"
position_m = 0
[roles.trigger]
kind = "gate"
position_m = 5
[roles.left]
kind = "gate"
x_m = -3.5
y_m = 8.5
[roles.right]
kind = "gate"
x_m = 3.5
y_m = 8.5

[target_choice]
role = "target"
options = ["left", "right"]

[[segments]]
from = "start"
to = "trigger"
distance_m = 5
movement = "sprint"

[[segments]]
from = "trigger"
to = "target"
distance_m = 5
movement = "sprint"
"""
