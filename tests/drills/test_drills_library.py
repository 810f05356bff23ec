"""The built-in library: every drill loads and carries the layout of its published protocol."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from drills.engine import Crossing, RunEngine, RunState
from drills.loader import LIBRARY_DIR, check_paths, load_drill, load_library
from drills.model import (
    BlockKind,
    Category,
    Direction,
    Drill,
    Movement,
    RoleKind,
    StartType,
    Timing,
    TurnSide,
)
from drills.timing import Stamp

YD = 0.9144
S = 1_000_000

EXPECTED = {
    "sprint-10m",
    "sprint-20m",
    "backward-sprint-10m",
    "backward-sprint-20m",
    "backpedal-turn-sprint",
    "pro-agility-5-10-5-left",
    "pro-agility-5-10-5-right",
    "t-test",
    "illinois-agility",
    "505-left",
    "505-right",
    "l-drill-right",
    "l-drill-left",
    "reactive-y-agility",
    "pod-reaction",
    "rsa-dawson-6x40",
    "rast-6x35",
    "flying-10m",
    "retro-walk-intervals",
    "backward-walk-3m",
}


@pytest.fixture(scope="module")
def lib() -> dict[str, Drill]:
    return load_library()


@pytest.mark.parametrize("path", sorted(LIBRARY_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_each_file_loads_and_cites_a_source(path: Path) -> None:
    drill = load_drill(path)
    assert drill.slug == path.stem
    assert drill.source, "every library drill cites its protocol"
    assert drill.familiarisation_reps < drill.reps


def test_library_is_exactly_the_expected_drills(lib: dict[str, Drill]) -> None:
    assert set(lib) == EXPECTED


def test_whole_library_passes_check_paths() -> None:
    assert check_paths([LIBRARY_DIR]) == []


def test_links_are_mutual(lib: dict[str, Drill]) -> None:
    twins = {(d.slug, d.twin) for d in lib.values() if d.twin}
    assert twins == {
        ("sprint-10m", "backward-sprint-10m"),
        ("backward-sprint-10m", "sprint-10m"),
        ("sprint-20m", "backward-sprint-20m"),
        ("backward-sprint-20m", "sprint-20m"),
    }
    mirrors = {d.slug: d.mirror for d in lib.values() if d.mirror}
    assert mirrors == {
        "505-left": "505-right",
        "505-right": "505-left",
        "l-drill-left": "l-drill-right",
        "l-drill-right": "l-drill-left",
        "pro-agility-5-10-5-left": "pro-agility-5-10-5-right",
        "pro-agility-5-10-5-right": "pro-agility-5-10-5-left",
    }


def test_sprints_and_backward_twins(lib: dict[str, Drill]) -> None:
    fwd, back = lib["sprint-20m"], lib["backward-sprint-20m"]
    assert [s.name for s in fwd.segments] == ["0-10m", "10-20m"]
    assert fwd.roles_in_order == ("start", "split_10m", "finish")
    assert back.roles["split_10m"].position_m == 10.0
    assert {s.movement for s in back.segments} == {Movement.BACKWARD_RUN}
    assert back.direction is Direction.BACKWARD and fwd.distance_m == back.distance_m == 20.0
    assert back.familiarisation_reps == 1 and back.counted_reps == 2
    assert lib["backward-sprint-10m"].is_familiarisation(1)


def test_backpedal_turn_sprint_has_a_split_per_part(lib: dict[str, Drill]) -> None:
    drill = lib["backpedal-turn-sprint"]
    parts = [(s.name, s.movement, s.distance_m) for s in drill.segments]
    assert parts == [
        ("backpedal", Movement.BACKPEDAL, 5.0),
        ("turn", Movement.TURN, 2.0),
        ("sprint", Movement.SPRINT, 10.0),
    ]


@pytest.mark.parametrize("side", ["left", "right"])
def test_pro_agility_passes_the_centre_gate_three_times(lib: dict[str, Drill], side: str) -> None:
    drill = lib[f"pro-agility-5-10-5-{side}"]
    assert drill.start.type is StartType.HOLD and drill.start.hold_us == 3 * S
    assert drill.roles_in_order == ("centre", "centre", "centre")
    assert math.isclose(drill.distance_m, 20 * YD)
    first_line = drill.route[0].to_role
    assert first_line == f"line_{side}"
    assert (drill.roles[first_line].x_m > 0) == (side == "right")
    assert drill.device_roles == ("centre",)


def test_t_test_layout_and_backpedal(lib: dict[str, Drill]) -> None:
    drill = lib["t-test"]
    [total] = drill.segments
    assert total.movement is Movement.MIXED and (total.from_role, total.to_role) == ("a", "a")
    assert [leg.movement for leg in total.legs] == [
        Movement.SPRINT,
        Movement.SHUFFLE,
        Movement.SHUFFLE,
        Movement.SHUFFLE,
        Movement.BACKPEDAL,
    ]
    assert math.isclose(total.legs[-1].distance_m, 10 * YD)
    assert (drill.roles["c"].x_m, drill.roles["d"].x_m) == (-5 * YD, 5 * YD)
    assert drill.roles["b"].kind is RoleKind.MARKER


def test_illinois_prone_coach_go(lib: dict[str, Drill]) -> None:
    drill = lib["illinois-agility"]
    assert drill.start.type is StartType.COACH_GO and drill.start.clock_starts_on_signal
    assert "prone" in drill.start.stance
    assert 59 < drill.distance_m < 62
    centre = [r for r in drill.roles if r.startswith("centre_")]
    assert len(centre) == 4
    assert [r for r in drill.route if r.to_role == "centre_1"][1].from_role == "centre_2"


@pytest.mark.parametrize("side", ["left", "right"])
def test_505_times_only_the_zone_round_the_turn(lib: dict[str, Drill], side: str) -> None:
    drill = lib[f"505-{side}"]
    run_in, into_turn, out = drill.route
    assert not run_in.timed and run_in.distance_m == 10
    assert into_turn.turn is TurnSide(side) and into_turn.to_role == "turn_line"
    [zone] = drill.segments
    assert (zone.from_role, zone.to_role, zone.distance_m) == ("gate_10m", "gate_10m", 10.0)
    assert zone.legs == (into_turn, out)
    assert drill.start_role == "gate_10m" and drill.distance_m == 10.0


@pytest.mark.parametrize(("side", "sign"), [("right", 1), ("left", -1)])
def test_l_drill_versions_mirror_the_layout(lib: dict[str, Drill], side: str, sign: int) -> None:
    drill = lib[f"l-drill-{side}"]
    assert drill.roles["c"].x_m == sign * 5 * YD
    assert drill.roles_in_order == ("a", "a", "a")
    cut_at_b = next(leg.turn for leg in drill.route if leg.turn is not None)
    assert cut_at_b is TurnSide(side)
    assert math.isclose(drill.distance_m, 30 * YD)


def test_reactive_y_agility_target_choice(lib: dict[str, Drill]) -> None:
    drill = lib["reactive-y-agility"]
    choice = drill.target_choice
    assert choice is not None
    assert (choice.role, choice.options, choice.lit_at) == (
        "target",
        ("target_left", "target_right"),
        "trigger",
    )
    assert drill.roles["trigger"].y_m == 5.0
    for option in choice.options:
        cut = math.dist(
            (drill.roles["trigger"].x_m, drill.roles["trigger"].y_m),
            (drill.roles[option].x_m, drill.roles[option].y_m),
        )
        assert math.isclose(cut, 5.0, abs_tol=0.01)
        resolved = drill.resolve_target(option)
        assert resolved.roles_in_order == ("start", "trigger", option)


def test_pod_reaction_stimuli(lib: dict[str, Drill]) -> None:
    drill = lib["pod-reaction"]
    stimuli = drill.stimuli
    assert drill.timing is Timing.PODS and stimuli is not None
    assert stimuli.go_colours == ("green",) and stimuli.no_go_colours == ("red",)
    assert stimuli.count == 20 and len(stimuli.pods) == 4
    assert stimuli.home == "home" and stimuli.splits_reaction_and_movement
    assert drill.segments == () and drill.roles_in_order == ()


def test_repeated_sprint_protocols(lib: dict[str, Drill]) -> None:
    dawson, rast = lib["rsa-dawson-6x40"], lib["rast-6x35"]
    assert (dawson.reps, dawson.rest_us, dawson.distance_m) == (6, 24 * S, 40.0)
    assert (rast.reps, rast.rest_us, rast.distance_m) == (6, 10 * S, 35.0)
    assert dawson.category is Category.REPEATED_SPRINT


def test_flying_10m_has_an_untimed_run_in(lib: dict[str, Drill]) -> None:
    drill = lib["flying-10m"]
    assert [leg.timed for leg in drill.route] == [False, True]
    assert drill.roles_in_order == ("zone_in", "zone_out") and drill.distance_m == 10.0


def test_retro_walk_intervals_need_no_gates(lib: dict[str, Drill]) -> None:
    drill = lib["retro-walk-intervals"]
    assert drill.timing is Timing.INTERVALS and drill.roles == {} and drill.segments == ()
    kinds = [b.kind for b in drill.blocks]
    assert kinds == [BlockKind.WORK, BlockKind.REST]
    assert drill.blocks[0].movement is Movement.BACKWARD_WALK and drill.reps == 6


def test_backward_walk_3m(lib: dict[str, Drill]) -> None:
    drill = lib["backward-walk-3m"]
    [walk] = drill.segments
    assert walk.movement is Movement.BACKWARD_WALK and walk.distance_m == 3.0
    assert drill.category is Category.SCREENING and drill.rearm_us > 500_000


# --- the unchanged engine runs the gate drills -------------------------------------------


def run(drill: Drill, gaps_s: list[float]) -> RunEngine:
    engine = RunEngine(drill)
    t = 0
    for role, gap in zip(drill.roles_in_order, [0.0, *gaps_s], strict=True):
        t += round(gap * S)
        engine.crossing(Crossing(role, Stamp(t)))
    return engine


@pytest.mark.parametrize(
    ("slug", "gaps_s"),
    [
        ("505-left", [2.4]),
        ("t-test", [10.2]),
        ("pro-agility-5-10-5-right", [2.2, 2.3]),
        ("l-drill-left", [2.0, 5.3]),
        ("flying-10m", [1.1]),
        ("backpedal-turn-sprint", [1.5, 0.6, 1.6]),
    ],
)
def test_engine_times_library_drills(lib: dict[str, Drill], slug: str, gaps_s: list[float]) -> None:
    engine = run(lib[slug], gaps_s)
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED, engine.ignored
    assert [s.elapsed_us for s in outcome.splits] == [round(g * S) for g in gaps_s]
    assert outcome.total_us == round(sum(gaps_s) * S)


def test_engine_times_a_resolved_reactive_target(lib: dict[str, Drill]) -> None:
    drill = lib["reactive-y-agility"].resolve_target("target_right")
    outcome = run(drill, [1.0, 0.9]).outcome()
    assert outcome.state is RunState.FINISHED
    assert outcome.splits[-1].to_role == "target_right"


def test_only_coach_go_gate_and_pod_drills_wait_for_go(lib: dict[str, Drill]) -> None:
    waiting = {slug for slug, drill in lib.items() if drill.waits_for_go}
    assert waiting == {"illinois-agility", "pod-reaction"}
    # An interval drill runs from its session's start even where it names a coach-go start.
    assert lib["retro-walk-intervals"].start.type.value == "coach-go"
