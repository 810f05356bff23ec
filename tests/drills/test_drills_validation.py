"""One malformed file per validation rule: each names the file, the field path and the line."""

from __future__ import annotations

import pytest

from drills.loader import load_drill_text
from tests.drills.drill_texts import INTERVALS, PODS, REACTIVE, SHUTTLE, errors_of, line_of, sub


def test_bases_are_valid() -> None:
    for text, name in ((SHUTTLE, "shuttle"), (INTERVALS, "walks"), (PODS, "pods")):
        assert load_drill_text(text, f"{name}.toml", expected_slug=name).slug == name


# (id, text, field path, fragment of the message, marker on the expected line)
CASES: list[tuple[str, str, str, str, str]] = [
    (
        "hold start on a pod",
        sub(
            sub(SHUTTLE, 'type = "auto"', 'type = "hold"\nhold_s = 3'),
            'kind = "gate"',
            'kind = "pod"',
        ),
        "start.type",
        "needs a gate at 'start'",
        'type = "hold"',
    ),
    (
        "reactive cue on an unknown role",
        sub(
            SHUTTLE,
            'type = "auto"\nstance = "standing"\n',
            REACTIVE + 'cue = "beep"\ncue_role = "pod_9"\n',
        ),
        "start.cue_role",
        "no role named 'pod_9'",
        "cue_role",
    ),
    (
        "pod drill with a gate start",
        sub(PODS, 'timing = "pods"', 'timing = "pods"\n[start]\ntype = "auto"\nstance = "ready"'),
        "start.type",
        "starts on the coach's GO",
        'type = "auto"',
    ),
    (
        "interval drill with roles and segments",
        INTERVALS + '\n[[segments]]\nfrom = "a"\n',
        "segments",
        "no gates or pods",
        "[[segments]]",
    ),
    (
        "unknown top key",
        sub(SHUTTLE, "reps = 3", "reps = 3\nrepz = 2"),
        "repz",
        "did you mean 'reps'",
        "repz",
    ),
    (
        "unknown segment key",
        sub(SHUTTLE, 'turn = "left"', 'side = "left"'),
        "segments[0].side",
        "unknown key",
        'side = "left"',
    ),
    (
        "unknown role",
        sub(SHUTTLE, 'to = "start"', 'to = "home"'),
        "segments[1].to",
        "no role named 'home'",
        'to = "home"',
    ),
    (
        "segment between missing roles",
        sub(SHUTTLE, 'from = "start"', 'from = "gate_0"'),
        "segments[0].from",
        "no role named 'gate_0'",
        'from = "gate_0"',
    ),
    (
        "not chained",
        sub(SHUTTLE, 'from = "turn"', 'from = "start"  # was turn'),
        "segments[1].from",
        "must form a chain",
        "# was turn",
    ),
    (
        "zero distance",
        sub(
            SHUTTLE,
            'distance_m = 5\nmovement = "backpedal"',
            'distance_m = 0\nmovement = "backpedal"',
        ),
        "segments[1].distance_m",
        "greater than 0, got 0",
        "distance_m = 0",
    ),
    (
        "negative distance",
        sub(SHUTTLE, "distance_m = 5", "distance_m = -5"),
        "segments[0].distance_m",
        "greater than 0, got -5",
        "distance_m = -5",
    ),
    (
        "reactive without cue",
        sub(SHUTTLE, 'type = "auto"\nstance = "standing"\n', REACTIVE),
        "start.cue",
        "missing required field",
        "[start]",
    ),
    (
        "reactive min above max",
        sub(
            SHUTTLE,
            'type = "auto"\nstance = "standing"\n',
            REACTIVE.replace("= 3", "= 0.5") + 'cue = "beep"\n',
        ),
        "start.foreperiod_max_s",
        "less than foreperiod_min_s",
        "foreperiod_max_s",
    ),
    (
        "reactive light cue without role",
        sub(SHUTTLE, 'type = "auto"\nstance = "standing"\n', REACTIVE + 'cue = "light"\n'),
        "start.cue_role",
        "missing required field",
        "[start]",
    ),
    (
        "reactive cue on a marker",
        sub(
            SHUTTLE,
            'type = "auto"\nstance = "standing"\n',
            REACTIVE + 'cue = "light"\ncue_role = "turn"\n',
        ),
        "start.cue_role",
        "is a marker",
        "cue_role",
    ),
    (
        "hold without seconds",
        sub(SHUTTLE, 'type = "auto"', 'type = "hold"'),
        "start.hold_s",
        "missing required field",
        "[start]",
    ),
    (
        "hold seconds on an auto start",
        sub(SHUTTLE, 'type = "auto"', 'type = "auto"\nhold_s = 3'),
        "start.hold_s",
        'only used with type = "hold"',
        "hold_s",
    ),
    ("reps below 1", sub(SHUTTLE, "reps = 3", "reps = 0"), "reps", "must be 1 or more", "reps = 0"),
    (
        "reps not whole",
        sub(SHUTTLE, "reps = 3", "reps = 2.5"),
        "reps",
        "whole number",
        "reps = 2.5",
    ),
    (
        "rest below 0",
        sub(SHUTTLE, "rest_s = 30", "rest_s = -1"),
        "rest_s",
        "must be 0 or more",
        "rest_s",
    ),
    (
        "familiarisation not below reps",
        sub(SHUTTLE, "familiarisation_reps = 1", "familiarisation_reps = 3"),
        "familiarisation_reps",
        "less than reps",
        "familiarisation_reps",
    ),
    (
        "position twice",
        sub(SHUTTLE, "x_m = 0\ny_m = 0", "x_m = 0\nposition_m = 0"),
        "roles.start.position_m",
        "not both",
        "position_m",
    ),
    (
        "no position",
        sub(SHUTTLE, 'kind = "marker"\ny_m = 5', 'kind = "marker"'),
        "roles.turn",
        "missing position",
        "[roles.turn]",
    ),
    (
        "mixed written in a file",
        sub(SHUTTLE, 'movement = "sprint"', 'movement = "mixed"'),
        "segments[0].movement",
        "only describes a split",
        'movement = "mixed"',
    ),
    (
        "bad turn side",
        sub(SHUTTLE, 'turn = "left"', 'turn = "up"'),
        "segments[0].turn",
        "unknown value 'up'",
        'turn = "up"',
    ),
    (
        "timed not a boolean",
        sub(SHUTTLE, 'turn = "left"', 'timed = "no"'),
        "segments[0].timed",
        "true or false",
        "timed",
    ),
    (
        "clock ends at a marker",
        sub(SHUTTLE, 'movement = "backpedal"', 'movement = "backpedal"\ntimed = false'),
        "segments[0].to",
        "timing ends here",
        'to = "turn"',
    ),
    (
        "no timed segment",
        sub(
            sub(SHUTTLE, 'turn = "left"', "timed = false"),
            'movement = "backpedal"',
            'movement = "backpedal"\ntimed = false',
        ),
        "segments",
        "no timed segment",
        "[[segments]]",
    ),
    (
        "stimuli in a gate drill",
        SHUTTLE + "\n[stimuli]\ncount = 3\n",
        "stimuli",
        "only used in pod drills",
        "[stimuli]",
    ),
    (
        "mirror is itself",
        sub(SHUTTLE, "reps = 3", 'reps = 3\nmirror = "shuttle"'),
        "mirror",
        "own mirror",
        "mirror =",
    ),
    (
        "interval drill with gates",
        INTERVALS + '\n[roles.start]\nkind = "gate"\nposition_m = 0\n',
        "roles",
        "no gates or pods",
        "[roles.start]",
    ),
    (
        "interval drill without blocks",
        INTERVALS[: INTERVALS.index("[[blocks]]")],
        "blocks",
        "missing required field",
        "",
    ),
    (
        "interval drill without work",
        sub(
            INTERVALS,
            'kind = "work"\nseconds = 30\nmovement = "backward-walk"',
            'kind = "rest"\nseconds = 30',
        ),
        "blocks",
        "at least one block with kind",
        "[[blocks]]",
    ),
    (
        "work block without movement",
        sub(INTERVALS, '\nmovement = "backward-walk"', ""),
        "blocks[0].movement",
        "missing required field",
        "[[blocks]]",
    ),
    (
        "block of no length",
        sub(INTERVALS, "seconds = 30", "seconds = 0"),
        "blocks[0].seconds",
        "greater than 0",
        "seconds = 0",
    ),
    (
        "pod drill without pods",
        sub(
            sub(PODS, 'kind = "pod"\nx_m = -1', 'kind = "marker"\nx_m = -1'),
            'kind = "pod"\nx_m = 1',
            'kind = "marker"\nx_m = 1',
        ),
        "roles",
        "needs at least one pod",
        "[roles.home]",
    ),
    (
        "pod drill with an empty pod list",
        sub(PODS, 'home = "home"', 'home = "home"\npods = []'),
        "stimuli.pods",
        "needs at least one pod",
        "pods = []",
    ),
    (
        "pod list names a marker",
        sub(
            sub(PODS, 'kind = "pod"\nx_m = 1', 'kind = "marker"\nx_m = 1'),
            'home = "home"',
            'home = "home"\npods = ["p1", "p2"]',
        ),
        "stimuli.pods[1]",
        "not a pod (marker)",
        "pods = [",
    ),
    (
        "go colour not offered",
        sub(PODS, 'go = ["green"]', 'go = ["blue"]'),
        "stimuli.go[0]",
        "not in colours",
        "go = [",
    ),
    (
        "pod drill with segments",
        PODS + '\n[[segments]]\nfrom = "home"\n',
        "segments",
        "only used in gate drills",
        "[[segments]]",
    ),
    (
        "pod stimuli count",
        sub(PODS, "count = 10", "count = 0"),
        "stimuli.count",
        "must be 1 or more",
        "count = 0",
    ),
]


@pytest.mark.parametrize(
    ("text", "field", "fragment", "marker"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule(text: str, field: str, fragment: str, marker: str) -> None:
    errors = errors_of(text)
    matching = [e for e in errors if e.field == field]
    assert matching, f"no error at {field}: {[str(e) for e in errors]}"
    error = next((e for e in matching if fragment in e.message), None)
    assert error is not None, [str(e) for e in matching]
    assert error.file == "drill.toml"
    assert error.line == (line_of(text, marker) if marker else None), str(error)


def test_bad_toml_names_file_and_line() -> None:
    text = sub(SHUTTLE, 'stance = "standing"', "stance = standing")
    [error] = errors_of(text)
    assert error.line == line_of(text, "stance = standing")
    assert str(error).startswith(f"drill.toml:{error.line}: not valid TOML")


def test_every_problem_in_a_file_is_reported() -> None:
    text = sub(SHUTTLE, "reps = 3", "reps = 0")
    text = sub(text, "rest_s = 30", "rest_s = -2")
    text = sub(text, 'type = "auto"', 'type = "hold"')
    text = sub(text, "distance_m = 5", "distance_m = 0")
    text = sub(text, 'to = "start"', 'to = "nowhere"')
    fields = {e.field for e in errors_of(text)}
    expected = {"reps", "rest_s", "start.hold_s", "segments[0].distance_m", "segments[1].to"}
    assert expected <= fields
    lines = [e.line or 0 for e in errors_of(text)]
    assert lines == sorted(lines), "problems come in reading order"
