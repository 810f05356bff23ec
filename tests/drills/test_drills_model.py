"""What the model hands the engine and the plan runner: starts, reps, splits, stimuli, blocks."""

from __future__ import annotations

import pytest

from drills.errors import DrillsError
from drills.loader import load_drill_text, load_library
from drills.model import Cue, Movement, RoleKind, StartType

S = 1_000_000

BASE = """\
format = 1
slug = "lane"
name = "Lane"
purpose = "A lane with a run-in, a marker and a run-out."
category = "linear"
direction = "forward"

[start]
{start}

[roles.line]
kind = "marker"
position_m = 0
[roles.g1]
kind = "gate"
position_m = 5
[roles.cone]
kind = "marker"
x_m = 1
y_m = 8
[roles.g2]
kind = "gate"
x_m = 0
y_m = 10

[[segments]]
name = "run-in"
from = "line"
to = "g1"
distance_m = 5
movement = "sprint"
timed = false
[[segments]]
name = "bend"
from = "g1"
to = "cone"
distance_m = 3
movement = "sprint"
turn = "right"
[[segments]]
name = "back up"
from = "cone"
to = "g2"
distance_m = 2
movement = "backward-run"
[[segments]]
name = "run-out"
from = "g2"
to = "line"
distance_m = 10
movement = "walk"
timed = false
"""


def lane(start: str = 'type = "auto"\nstance = "standing"') -> str:
    return BASE.replace("{start}", start)


def test_defaults_for_new_fields() -> None:
    drill = load_drill_text(lane(), "lane.toml")
    assert (drill.reps, drill.rest_us, drill.familiarisation_reps) == (1, 0, 0)
    assert drill.mirror is None and drill.target_choice is None
    assert drill.stimuli is None and drill.blocks == ()
    assert drill.counted_reps == 1 and not drill.is_familiarisation(1)


def test_splits_merge_legs_at_markers_and_skip_run_in_and_run_out() -> None:
    drill = load_drill_text(lane(), "lane.toml")
    assert [leg.name for leg in drill.route] == ["run-in", "bend", "back up", "run-out"]
    [split] = drill.segments
    assert (split.name, split.from_role, split.to_role) == ("back up", "g1", "g2")
    assert split.distance_m == 5.0 and split.movement is Movement.MIXED
    assert [leg.name for leg in split.legs] == ["bend", "back up"]
    assert drill.start_role == "g1" and drill.roles_in_order == ("g1", "g2")
    assert drill.device_roles == ("g1", "g2")
    assert drill.roles["line"].kind is RoleKind.MARKER
    assert (drill.roles["cone"].x_m, drill.roles["cone"].y_m) == (1.0, 8.0)
    assert drill.roles["g1"].position_m == 5.0 and drill.roles["g1"].x_m == 0.0


def test_start_specs_carry_their_parameters() -> None:
    hold = load_drill_text(lane('type = "hold"\nstance = "in the beam"\nhold_s = 2.5'), "l.toml")
    assert hold.start.type is StartType.HOLD and hold.start.hold_us == 2_500_000
    assert not hold.start.clock_starts_on_signal

    reactive = load_drill_text(
        lane(
            'type = "reactive"\nstance = "ready"\nforeperiod_min_s = 1\nforeperiod_max_s = 3\n'
            'cue = "light"\ncue_role = "g2"'
        ),
        "l.toml",
    )
    start = reactive.start
    assert start.type is StartType.REACTIVE and start.clock_starts_on_signal
    assert (start.foreperiod_min_us, start.foreperiod_max_us) == (1 * S, 3 * S)
    assert (start.cue, start.cue_role, start.hold_us) == (Cue.LIGHT, "g2", None)

    beep = load_drill_text(
        lane(
            'type = "reactive"\nstance = "ready"\nforeperiod_min_s = 2\nforeperiod_max_s = 2\n'
            'cue = "beep"'
        ),
        "l.toml",
    )
    assert beep.start.cue is Cue.BEEP and beep.start.cue_role is None

    go = load_drill_text(lane('type = "coach-go"\nstance = "prone"'), "l.toml")
    assert go.start.type is StartType.COACH_GO and go.start.clock_starts_on_signal


def test_reps_rest_and_familiarisation() -> None:
    text = lane().replace('direction = "forward"', 'direction = "forward"\nreps = 4\nrest_s = 90\n'
                          "familiarisation_reps = 2")  # fmt: skip
    drill = load_drill_text(text, "lane.toml")
    assert (drill.reps, drill.rest_us, drill.counted_reps) == (4, 90 * S, 2)
    assert [drill.is_familiarisation(r) for r in range(1, 5)] == [True, True, False, False]


def test_resolve_target_refuses_what_is_not_a_target() -> None:
    library = load_library()
    with pytest.raises(DrillsError, match="no reactive target"):
        library["sprint-10m"].resolve_target("finish")
    with pytest.raises(DrillsError, match="not a target"):
        library["reactive-y-agility"].resolve_target("start")
    resolved = library["reactive-y-agility"].resolve_target("target_left")
    assert resolved.target_choice is None
    assert resolved.route[-1].to_role == "target_left"
    assert resolved.segments[-1].legs[-1].to_role == "target_left"


def test_pod_and_interval_drills_have_no_start_role() -> None:
    library = load_library()
    with pytest.raises(DrillsError, match="no start role"):
        _ = library["retro-walk-intervals"].start_role
    pods = library["pod-reaction"]
    assert pods.start.type is StartType.COACH_GO
    assert pods.stimuli is not None
    assert (pods.stimuli.foreperiod_min_us, pods.stimuli.window_us) == (1 * S, 1_500_000)
    blocks = library["retro-walk-intervals"].blocks
    assert [b.duration_us for b in blocks] == [60 * S, 60 * S]
    assert all(b.cue is Cue.BEEP for b in blocks)


def test_drills_stay_hashable() -> None:
    assert len({d for d in load_library().values()}) == len(load_library())
