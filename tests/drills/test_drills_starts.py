"""Run engine start types: hold, coach-go and reactive, plus the endings they add.

Every time is a plain Stamp on a fake clock: the engine has no clock of its own.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

import drills
from drills.cues import CuePlan
from drills.engine import ALLOWED_TRANSITIONS, Crossing, RunEngine, RunState
from drills.errors import EngineError
from drills.loader import load_drill_text, load_library
from drills.model import Drill, StartType
from drills.timing import Stamp

MS = 1_000
S = 1_000_000

AUTO_START = 'type = "auto"\nstance = "standing behind the start gate"\n'
REACTIVE_START = (
    'type = "reactive"\nstance = "standing behind the start gate"\n'
    'foreperiod_min_s = 1.5\nforeperiod_max_s = 3.5\ncue = "beep"\n'
)


@pytest.fixture(scope="module")
def lib() -> dict[str, Drill]:
    return load_library()


@pytest.fixture()
def pro_agility(lib: dict[str, Drill]) -> Drill:
    return lib["pro-agility-5-10-5-left"]


@pytest.fixture()
def illinois(lib: dict[str, Drill]) -> Drill:
    return lib["illinois-agility"]


@pytest.fixture(scope="module")
def reactive_y() -> Drill:
    """The library's Y-agility with a reactive start (its file starts on auto)."""
    path = Path(drills.__file__).parent / "library" / "reactive-y-agility.toml"
    text = path.read_text(encoding="utf-8")
    assert AUTO_START in text
    return load_drill_text(text.replace(AUTO_START, REACTIVE_START), path.name)


def at(role: str, mono_us: int) -> Crossing:
    return Crossing(role, Stamp(mono_us))


def armed_reactive(drill: Drill, seed: int = 7) -> tuple[RunEngine, CuePlan]:
    engine = RunEngine(drill)
    plan = engine.plan_cue(random.Random(seed))
    return engine, plan


# --- the table ----------------------------------------------------------------------------


def test_new_states_are_in_the_table() -> None:
    assert RunState.WAITING_CUE.value == "waiting_cue"
    assert RunState.FALSE_START.value == "false_start"
    assert ALLOWED_TRANSITIONS[RunState.ARMED] >= {RunState.WAITING_CUE}
    assert ALLOWED_TRANSITIONS[RunState.WAITING_CUE] == {
        RunState.RUNNING,
        RunState.FALSE_START,
        RunState.VOID,
    }
    assert ALLOWED_TRANSITIONS[RunState.FALSE_START] == {RunState.VOID}
    assert RunState.FINISHED not in ALLOWED_TRANSITIONS[RunState.WAITING_CUE]


def test_transition_table_refuses_illegal_transitions(illinois: Drill) -> None:
    engine = RunEngine(illinois)
    engine.go(Stamp(0))
    with pytest.raises(EngineError, match="running to running"):
        engine.go(Stamp(1 * S))
    engine.crossing(at("finish", 14 * S))
    assert engine.state is RunState.FINISHED
    with pytest.raises(EngineError, match="finished to running"):
        engine.go(Stamp(20 * S))


def test_start_type_methods_refuse_other_drills(pro_agility: Drill, illinois: Drill) -> None:
    with pytest.raises(EngineError, match="not on GO"):
        RunEngine(pro_agility).go(Stamp(0))
    with pytest.raises(EngineError, match="no reactive start"):
        RunEngine(illinois).cue_onset(Stamp(0))
    with pytest.raises(EngineError, match="nothing to plan"):
        RunEngine(illinois).plan_cue(random.Random(1))


# --- auto ---------------------------------------------------------------------------------


def test_auto_start_happy_path_ignores_restores(lib: dict[str, Drill]) -> None:
    engine = RunEngine(lib["sprint-10m"])
    assert engine.beam_edge("start", True, Stamp(1 * S)) == []
    assert engine.beam_edge("start", False, Stamp(1 * S + 80 * MS)) == []
    [split] = engine.beam_edge("finish", True, Stamp(2_900 * MS))
    assert split.elapsed_us == 1_900 * MS
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED and outcome.total_us == 1_900 * MS
    assert outcome.reaction_us is None and outcome.movement_us is None
    assert engine.ignored == []


# --- hold ---------------------------------------------------------------------------------


def test_hold_start_happy_path(pro_agility: Drill) -> None:
    engine = RunEngine(pro_agility)
    assert pro_agility.start.hold_us == 3 * S
    engine.beam_edge("centre", True, Stamp(0))
    assert engine.holding_since == Stamp(0) and engine.state is RunState.ARMED
    engine.beam_edge("centre", False, Stamp(3_400 * MS))
    assert engine.outcome().state is RunState.RUNNING
    assert engine.started_at == Stamp(3_400 * MS) and engine.holding_since is None
    [first] = engine.beam_edge("centre", True, Stamp(5_600 * MS))
    engine.beam_edge("centre", False, Stamp(5_700 * MS))
    [last] = engine.beam_edge("centre", True, Stamp(7_900 * MS))
    assert (first.name, first.elapsed_us) == ("first 10 yd", 2_200 * MS)
    assert (last.name, last.elapsed_us) == ("last 10 yd", 2_300 * MS)
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED and outcome.total_us == 4_500 * MS
    assert engine.ignored == []


def test_hold_too_short_resets_then_completes(pro_agility: Drill) -> None:
    engine = RunEngine(pro_agility)
    engine.beam_edge("centre", True, Stamp(0))
    engine.beam_edge("centre", False, Stamp(1_200 * MS))  # stepped out early
    assert engine.state is RunState.ARMED and engine.holding_since is None
    assert engine.ignored[-1] == (at("centre", 1_200 * MS), engine.ignored[-1][1])
    assert "hold too short (1200 ms of 3000 ms): hold reset" in engine.ignored[-1][1]
    engine.beam_edge("centre", True, Stamp(2 * S))
    engine.beam_edge("centre", False, Stamp(4_999 * MS))  # 1 ms short again
    assert engine.state is RunState.ARMED
    engine.beam_edge("centre", True, Stamp(6 * S))
    engine.beam_edge("centre", False, Stamp(9 * S))  # exactly hold_s
    assert engine.outcome().state is RunState.RUNNING and engine.started_at == Stamp(9 * S)


def test_hold_restore_without_break_is_ignored(pro_agility: Drill) -> None:
    engine = RunEngine(pro_agility)
    assert engine.beam_edge("centre", False, Stamp(5 * S)) == []
    assert engine.ignored[-1][1] == "hold: beam restored without a break"
    assert engine.state is RunState.ARMED


def test_hold_rebreak_after_release_is_debounced(pro_agility: Drill) -> None:
    engine = RunEngine(pro_agility)
    engine.beam_edge("centre", True, Stamp(0))
    engine.beam_edge("centre", False, Stamp(3 * S))
    assert engine.beam_edge("centre", True, Stamp(3_200 * MS)) == []  # trailing foot
    assert engine.ignored[-1][1].startswith("debounce")
    assert engine.state is RunState.RUNNING


def test_hold_drill_fed_breaks_only_behaves_as_auto(pro_agility: Drill) -> None:
    """Stored break-only reps and break-only gates keep working: no edges, no hold rule."""
    engine = RunEngine(pro_agility)
    engine.crossing(at("centre", 0))
    assert engine.state is RunState.RUNNING and engine.started_at == Stamp(0)


def test_hold_void_while_holding(pro_agility: Drill) -> None:
    engine = RunEngine(pro_agility)
    engine.beam_edge("centre", True, Stamp(0))
    engine.void("wrong athlete")
    assert engine.outcome().state is RunState.VOID
    assert engine.outcome().reason == "wrong athlete"
    assert engine.beam_edge("centre", False, Stamp(4 * S)) == []
    assert engine.state is RunState.VOID


# --- coach-go -----------------------------------------------------------------------------


def test_coach_go_illinois_happy_path(illinois: Drill) -> None:
    engine = RunEngine(illinois)
    assert illinois.roles_in_order == ("start", "finish")
    assert engine.go(Stamp(10 * S)) == []
    assert engine.state is RunState.RUNNING and engine.started_at == Stamp(10 * S)
    assert engine.crossing(at("start", 10_450 * MS)) == []  # getting up: not a split
    [total] = engine.crossing(at("finish", 26_200 * MS))
    assert (total.name, total.from_role, total.elapsed_us) == ("total", "start", 16_200 * MS)
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED and outcome.total_us == 16_200 * MS
    assert outcome.reaction_us == 450 * MS and outcome.movement_us == 15_750 * MS


def test_coach_go_crossings_before_go_are_ignored(illinois: Drill) -> None:
    engine = RunEngine(illinois)
    engine.crossing(at("start", 3 * S))  # athlete lying down across the beam
    engine.crossing(at("finish", 4 * S))  # coach walking through the finish
    assert engine.state is RunState.ARMED and len(engine.pending) == 2
    engine.go(Stamp(10 * S))
    assert [reason for _, reason in engine.ignored] == ["before GO", "before GO"]
    assert not engine.pending
    engine.crossing(at("start", 9_900 * MS))  # re-sent frame stamped before GO
    assert engine.ignored[-1] == (at("start", 9_900 * MS), "before GO")
    assert engine.outcome().reaction_us is None


def test_coach_go_crossing_heard_before_the_tap_arrives(illinois: Drill) -> None:
    """The GO tap can reach the host after the gate's event: judged by stamp, not arrival."""
    engine = RunEngine(illinois)
    engine.crossing(at("start", 10_300 * MS))
    engine.go(Stamp(10 * S))
    assert engine.ignored == []
    engine.crossing(at("finish", 25 * S))
    assert engine.outcome().reaction_us == 300 * MS


def test_coach_go_without_a_start_crossing_times_from_go(illinois: Drill) -> None:
    engine = RunEngine(illinois)
    engine.go(Stamp(0))
    engine.crossing(at("finish", 15 * S))
    outcome = engine.outcome()
    assert outcome.total_us == 15 * S and outcome.reaction_us is None
    assert outcome.movement_us is None


def test_coach_go_bounce_of_the_start_is_ignored(illinois: Drill) -> None:
    engine = RunEngine(illinois)
    engine.go(Stamp(0))
    engine.crossing(at("start", 400 * MS))
    engine.crossing(at("start", 600 * MS))
    assert engine.ignored[-1][1].startswith("debounce")
    engine.crossing(at("start", 5 * S))  # passing the start line again mid-course
    assert engine.ignored[-1][1] == "not expected: waiting for 'finish'"
    assert engine.outcome().reaction_us == 400 * MS


def test_coach_go_timeout_and_void_after(illinois: Drill) -> None:
    engine = RunEngine(illinois)
    engine.go(Stamp(1 * S))
    assert engine.poll(41 * S) is RunState.RUNNING
    assert engine.poll(41 * S + 1) is RunState.TIMEOUT
    assert engine.outcome().reason == "not finished within 40 s"
    engine.void("slipped")
    assert engine.state is RunState.VOID


# --- reactive -----------------------------------------------------------------------------


def test_plan_cue_is_seeded_and_within_bounds(reactive_y: Drill) -> None:
    low, high = reactive_y.start.foreperiod_min_us, reactive_y.start.foreperiod_max_us
    assert (low, high) == (1_500 * MS, 3_500 * MS)
    assert low is not None and high is not None
    plans = [armed_reactive(reactive_y, seed)[1] for seed in range(200)]
    again = [armed_reactive(reactive_y, seed)[1] for seed in range(200)]
    assert plans == again
    assert all(p.foreperiod_us is not None and low <= p.foreperiod_us <= high for p in plans)
    assert {p.target for p in plans} == {"target_left", "target_right"}
    assert len({p.foreperiod_us for p in plans}) > 150


def test_plan_cue_arms_the_cue_and_resolves_the_target(reactive_y: Drill) -> None:
    engine, plan = armed_reactive(reactive_y)
    assert engine.state is RunState.WAITING_CUE and engine.cue_plan == plan
    assert plan.target is not None
    assert engine.drill.roles_in_order == ("start", "trigger", plan.target)
    assert engine.expected_role == "start"
    with pytest.raises(EngineError, match="already planned"):
        engine.plan_cue(random.Random(7))


def test_plan_cue_for_an_auto_reactive_target(lib: dict[str, Drill]) -> None:
    engine = RunEngine(lib["reactive-y-agility"])
    plan = engine.plan_cue(random.Random(3))
    assert plan.foreperiod_us is None and plan.target in ("target_left", "target_right")
    assert engine.state is RunState.ARMED
    engine.crossing(at("start", 0))
    engine.crossing(at("trigger", 1 * S))
    [cut] = engine.crossing(at(str(plan.target), 1_900 * MS))
    assert cut.to_role == plan.target and engine.outcome().state is RunState.FINISHED


def test_reactive_normal_rep_gives_reaction_and_movement(reactive_y: Drill) -> None:
    engine, plan = armed_reactive(reactive_y)
    engine.cue_onset(Stamp(2 * S))
    assert engine.state is RunState.RUNNING and engine.started_at == Stamp(2 * S)
    assert engine.crossing(at("start", 2_250 * MS)) == []
    [first] = engine.crossing(at("trigger", 3_250 * MS))
    [cut] = engine.crossing(at(str(plan.target), 4_100 * MS))
    assert (first.elapsed_us, cut.elapsed_us) == (1_250 * MS, 850 * MS)
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED and outcome.total_us == 2_100 * MS
    assert sum(s.elapsed_us for s in outcome.splits) == outcome.total_us
    assert outcome.reaction_us == 250 * MS and outcome.movement_us == 1_000 * MS
    assert engine.cue_onset(Stamp(2_010 * MS)) == [] and engine.cue_onset_at == Stamp(2 * S)


def test_reactive_false_start_while_waiting(reactive_y: Drill) -> None:
    engine, _ = armed_reactive(reactive_y)
    engine.crossing(at("start", 1_750 * MS))
    outcome = engine.outcome()
    assert outcome.state is RunState.FALSE_START and outcome.total_us is None
    assert outcome.reason == "false start: 'start' broken before the cue"
    engine.cue_onset(Stamp(2 * S))  # the beep had been scheduled and still came
    assert engine.state is RunState.FALSE_START
    assert engine.outcome().reason == "false start: 'start' broken 250 ms before the cue"
    engine.crossing(at("trigger", 3 * S))
    assert engine.ignored[-1][1] == "run over (false_start)"
    assert engine.poll(60 * S) is RunState.FALSE_START


def test_reactive_false_start_stamped_before_the_onset_arriving_after(
    reactive_y: Drill,
) -> None:
    engine, _ = armed_reactive(reactive_y)
    engine.cue_onset(Stamp(2 * S))
    engine.crossing(at("start", 1_880 * MS))
    assert engine.state is RunState.FALSE_START
    assert engine.outcome().reason == "false start: 'start' broken 120 ms before the cue"


def test_reactive_other_roles_before_the_cue_are_not_false_starts(reactive_y: Drill) -> None:
    engine, _ = armed_reactive(reactive_y)
    engine.crossing(at("trigger", 1 * S))  # a coach walking through the trigger gate
    assert engine.state is RunState.WAITING_CUE
    assert engine.ignored[-1] == (at("trigger", 1 * S), "before the cue")
    unplanned = RunEngine(reactive_y)
    unplanned.crossing(at("start", 0))
    assert unplanned.state is RunState.ARMED
    assert unplanned.ignored[-1][1] == "before the cue was planned"


def test_waiting_cue_does_not_time_out_and_can_be_voided(reactive_y: Drill) -> None:
    engine, _ = armed_reactive(reactive_y)
    assert engine.poll(10**12) is RunState.WAITING_CUE
    engine.void("cue never came")
    assert engine.outcome().state is RunState.VOID
    assert engine.cue_onset(Stamp(5 * S)) == [] and engine.state is RunState.VOID


def test_reactive_times_out_from_the_onset(reactive_y: Drill) -> None:
    engine, _ = armed_reactive(reactive_y)
    engine.cue_onset(Stamp(3 * S))
    engine.crossing(at("start", 3_300 * MS))
    assert engine.poll(13 * S) is RunState.RUNNING
    assert engine.poll(13 * S + 1) is RunState.TIMEOUT
    assert engine.outcome().reaction_us == 300 * MS and engine.outcome().movement_us is None


def test_cue_onset_before_planning_is_a_caller_bug(reactive_y: Drill) -> None:
    with pytest.raises(EngineError, match="plan the cue first"):
        RunEngine(reactive_y).cue_onset(Stamp(0))


def test_late_start_crossing_still_gives_the_reaction_time(reactive_y: Drill) -> None:
    engine, _ = armed_reactive(reactive_y)
    engine.cue_onset(Stamp(2 * S))
    [first] = engine.crossing(at("trigger", 3_200 * MS))
    engine.crossing(at("start", 2_220 * MS))  # re-sent after the trigger's event
    assert first.elapsed_us == 1_200 * MS
    outcome = engine.outcome()
    assert outcome.reaction_us == 220 * MS and outcome.movement_us == 980 * MS
    assert engine.ignored[-1][1].startswith("start crossing arrived late")


def test_old_outcome_constructor_still_works() -> None:
    outcome = drills.RunOutcome(RunState.VOID, (), None, "x")
    assert outcome.reaction_us is None and outcome.movement_us is None


def test_start_spec_drives_the_clock(reactive_y: Drill, illinois: Drill) -> None:
    assert reactive_y.start.type is StartType.REACTIVE
    assert reactive_y.start.clock_starts_on_signal and illinois.start.clock_starts_on_signal
    fixed = replace(
        reactive_y,
        start=replace(reactive_y.start, foreperiod_min_us=2 * S, foreperiod_max_us=2 * S),
    )
    assert armed_reactive(fixed)[1].foreperiod_us == 2 * S
