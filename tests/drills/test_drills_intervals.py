"""Interval sessions: the block schedule, pause/resume, skip, stop and device cue stamps."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drills.errors import EngineError
from drills.intervals import (
    ALLOWED_TRANSITIONS,
    BlockSlot,
    IntervalSession,
    IntervalState,
    SlotStatus,
    duration_us,
    schedule,
)
from drills.loader import load_drill_text, load_library
from drills.model import BlockKind, Cue, Drill, Movement
from drills.timing import Stamp

S = 1_000_000
T0 = 5_000 * S  # host-monotonic start of the session
MINUTE = 60 * S

NO_CUE_DRILL = """\
format = 1
slug = "quiet-intervals"
name = "Quiet"
purpose = "Test interval drill."
category = "interval"
direction = "backward"
timing = "intervals"
reps = 2
[[blocks]]
kind = "work"
seconds = 20
movement = "backward-walk"
[[blocks]]
kind = "rest"
seconds = 10
cue = "none"
"""


@pytest.fixture(scope="module")
def drill() -> Drill:
    return load_library()["retro-walk-intervals"]


@pytest.fixture
def session(drill: Drill) -> IntervalSession:
    return IntervalSession(drill, T0)


def test_retro_walk_schedule_is_six_rounds_of_work_and_rest(drill: Drill) -> None:
    slots = schedule(drill, T0)
    expected = []
    for k in range(12):
        work = k % 2 == 0
        expected.append(
            BlockSlot(
                index=k,
                round=k // 2 + 1,
                block_index=k % 2,
                name="walk backward" if work else "recover",
                kind=BlockKind.WORK if work else BlockKind.REST,
                start_mono_us=T0 + k * MINUTE,
                end_mono_us=T0 + (k + 1) * MINUTE,
                cue=Cue.BEEP,
                movement=Movement.BACKWARD_WALK if work else None,
            )
        )
    assert slots == tuple(expected)
    assert duration_us(drill) == 720 * S == slots[-1].end_mono_us - T0
    assert all(s.duration_us == MINUTE for s in slots)


def test_schedule_refuses_other_drills() -> None:
    pods = load_library()["pod-reaction"]
    with pytest.raises(EngineError):
        schedule(pods, 0)
    with pytest.raises(EngineError):
        IntervalSession(pods, 0)


def test_transition_table() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(IntervalState)
    assert ALLOWED_TRANSITIONS[IntervalState.FINISHED] == frozenset()
    assert ALLOWED_TRANSITIONS[IntervalState.STOPPED] == frozenset()


def test_current_follows_the_clock_to_the_end(session: IntervalSession) -> None:
    before = session.current(T0 - 3 * S)  # a countdown before the start: nothing has begun
    assert before is not None and before.slot.index == 0 and before.remaining_us == MINUTE
    assert session.outcome().slots[0].status is SlotStatus.PENDING
    pos = session.current(T0 + 90 * S)
    assert pos is not None
    assert (pos.slot.index, pos.slot.round, pos.slot.kind) == (1, 1, BlockKind.REST)
    assert pos.remaining_us == 30 * S and not pos.paused
    last = session.current(T0 + 720 * S - 1)
    assert last is not None and last.slot.index == 11 and last.remaining_us == 1
    assert session.current(T0 + 720 * S) is None
    assert session.state is IntervalState.FINISHED
    out = session.outcome()
    assert (out.rounds_completed, out.work_blocks_completed, out.work_us) == (6, 6, 360 * S)
    assert all(r.status is SlotStatus.DONE for r in out.slots)
    assert out.slots[3].started_mono_us == T0 + 3 * MINUTE
    assert out.slots[3].ended_mono_us == T0 + 4 * MINUTE


def test_work_time_counts_the_running_block(session: IntervalSession) -> None:
    out = session.outcome(T0 + 150 * S)  # 30 s into round 2's work
    assert out.state is IntervalState.RUNNING
    assert [r.status for r in out.slots[:4]] == [
        SlotStatus.DONE,
        SlotStatus.DONE,
        SlotStatus.RUNNING,
        SlotStatus.PENDING,
    ]
    assert out.slots[2].ended_mono_us is None
    assert (out.rounds_completed, out.work_blocks_completed, out.work_us) == (1, 1, 90 * S)


def test_pause_and_resume_shift_the_rest_of_the_schedule(session: IntervalSession) -> None:
    session.pause(T0 + 30 * S)
    assert session.state is IntervalState.PAUSED
    frozen = session.current(T0 + 45 * S)
    assert frozen is not None and frozen.paused and frozen.remaining_us == 30 * S
    session.resume(T0 + 50 * S)
    pos = session.current(T0 + 50 * S)
    assert pos is not None and pos.remaining_us == 30 * S and not pos.paused
    slots = session.slots
    assert (slots[0].start_mono_us, slots[0].end_mono_us) == (T0, T0 + 80 * S)
    assert (slots[1].start_mono_us, slots[1].end_mono_us) == (T0 + 80 * S, T0 + 140 * S)
    assert slots[-1].end_mono_us == T0 + 740 * S
    out = session.outcome(T0 + 100 * S)
    assert out.slots[0].paused_us == 20 * S
    assert out.slots[0].status is SlotStatus.DONE and out.work_us == MINUTE


def test_pause_before_the_start_delays_everything(session: IntervalSession) -> None:
    session.pause(T0 - 10 * S)
    session.resume(T0 + 5 * S)
    assert session.slots[0].start_mono_us == T0 + 15 * S
    assert session.outcome().slots[0].paused_us == 0


def test_pause_and_resume_refuse_the_wrong_state(session: IntervalSession) -> None:
    with pytest.raises(EngineError):
        session.resume(T0 + S)
    session.pause(T0 + S)
    with pytest.raises(EngineError):
        session.pause(T0 + 2 * S)
    session.resume(T0 + 3 * S)
    session.current(T0 + 900 * S)
    with pytest.raises(EngineError):
        session.pause(T0 + 900 * S)  # already finished


def test_skip_begins_the_next_block_at_once(session: IntervalSession) -> None:
    session.skip_block(T0 + 10 * S)
    pos = session.current(T0 + 10 * S)
    assert pos is not None and pos.slot.index == 1 and pos.remaining_us == MINUTE
    assert session.slots[1].start_mono_us == T0 + 10 * S
    assert session.slots[-1].end_mono_us == T0 + 670 * S
    out = session.outcome(T0 + 70 * S)
    assert out.slots[0].status is SlotStatus.SKIPPED
    assert out.slots[0].ended_mono_us == T0 + 10 * S
    assert out.slots[1].status is SlotStatus.DONE
    # Round 1 was gone through, but its work block did not run to its end.
    assert (out.rounds_completed, out.work_blocks_completed, out.work_us) == (1, 0, 10 * S)


def test_skip_while_paused_begins_the_next_block_on_resume(session: IntervalSession) -> None:
    session.pause(T0 + 20 * S)
    session.skip_block(T0 + 25 * S)
    pos = session.current(T0 + 30 * S)
    assert pos is not None and pos.paused and pos.slot.index == 1
    assert pos.remaining_us == MINUTE
    assert session.outcome().slots[1].status is SlotStatus.PENDING
    session.resume(T0 + 40 * S)
    assert (session.slots[1].start_mono_us, session.slots[1].end_mono_us) == (
        T0 + 40 * S,
        T0 + 100 * S,
    )
    out = session.outcome(T0 + 50 * S)
    assert out.slots[0].ended_mono_us == T0 + 20 * S and out.work_us == 20 * S
    assert out.slots[1].paused_us == 0 and out.slots[1].status is SlotStatus.RUNNING


def test_skipping_the_last_block_finishes(drill: Drill) -> None:
    session = IntervalSession(drill, T0)
    session.current(T0 + 11 * MINUTE + 5 * S)
    session.skip_block(T0 + 11 * MINUTE + 5 * S)
    assert session.state is IntervalState.FINISHED
    out = session.outcome()
    assert out.rounds_completed == 6 and out.work_blocks_completed == 6
    with pytest.raises(EngineError):
        session.skip_block(T0 + 800 * S)


def test_stop_counts_completed_work_blocks(session: IntervalSession) -> None:
    out = session.stop(T0 + 150 * S)
    assert session.state is IntervalState.STOPPED and out.state is IntervalState.STOPPED
    assert [r.status for r in out.slots[:4]] == [
        SlotStatus.DONE,
        SlotStatus.DONE,
        SlotStatus.CUT,
        SlotStatus.PENDING,
    ]
    assert out.slots[2].ended_mono_us == T0 + 150 * S
    assert out.slots[3].started_mono_us is None
    assert (out.rounds_completed, out.work_blocks_completed, out.work_us) == (1, 1, 90 * S)
    assert session.current(T0 + 160 * S) is None
    assert session.outcome(T0 + 900 * S).work_us == 90 * S  # time no longer counts
    with pytest.raises(EngineError):
        session.stop(T0 + 200 * S)


def test_stop_while_paused_ends_at_the_pause(session: IntervalSession) -> None:
    session.pause(T0 + 30 * S)
    out = session.stop(T0 + 100 * S)
    assert out.slots[0].status is SlotStatus.CUT
    assert out.slots[0].ended_mono_us == T0 + 30 * S
    assert (out.work_blocks_completed, out.work_us) == (0, 30 * S)


def test_cue_onsets_record_when_blocks_really_began(session: IntervalSession) -> None:
    beep0 = Stamp(T0 + 2_000, clock="hub:boot-1", ticks=123_456, tick_hz_est=1e6)
    beep1 = Stamp(T0 + MINUTE + 1_500)
    session.cue_onset(0, beep0)
    session.cue_onset(1, beep1)
    session.cue_onset(1, Stamp(T0 + MINUTE + 9_000))  # re-sent
    out = session.outcome(T0 + 61 * S)
    assert out.slots[0].cue_at == beep0 and out.slots[1].cue_at == beep1
    assert out.slots[0].actual_start_mono_us == T0 + 2_000
    assert out.slots[2].actual_start_mono_us is None  # not begun
    assert out.slots[1].started_mono_us == T0 + MINUTE  # the host schedule is kept
    assert [r for _, r in session.ignored] == ["repeated onset: the first one counts"]
    with pytest.raises(EngineError):
        session.cue_onset(12, beep1)


def test_cue_onsets_for_silent_or_never_begun_blocks_are_ignored() -> None:
    quiet = load_drill_text(NO_CUE_DRILL, "quiet-intervals.toml")
    session = IntervalSession(quiet, 0)
    session.cue_onset(1, Stamp(20 * S))
    assert session.ignored[-1][1] == "this block has no cue"
    session.stop(25 * S)
    session.cue_onset(2, Stamp(30 * S))  # scheduled on the device before the stop
    assert session.ignored[-1][1] == "block never began (session stopped)"
    session.cue_onset(0, Stamp(5))  # a late report for a block that ran
    assert session.outcome().slots[0].cue_at == Stamp(5)
    assert session.outcome().slots[0].actual_start_mono_us == 5


def test_a_stale_now_is_taken_as_the_latest(session: IntervalSession) -> None:
    session.current(T0 + 90 * S)
    pos = session.current(T0 + 30 * S)
    assert pos is not None and pos.slot.index == 1 and pos.remaining_us == 30 * S


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["pause", "resume", "skip"]), st.integers(0, 90 * S)),
        max_size=12,
    )
)
def test_schedule_never_overlaps_and_pauses_add_up(steps: list[tuple[str, int]]) -> None:
    quiet = load_drill_text(NO_CUE_DRILL, "quiet-intervals.toml")
    session = IntervalSession(quiet, 0)
    now = 0
    paused_total = 0
    paused_at: int | None = None
    for action, gap in steps:
        now += gap
        try:
            if action == "pause":
                session.pause(now)
                paused_at = now
            elif action == "resume":
                session.resume(now)
                assert paused_at is not None
                paused_total += now - paused_at
                paused_at = None
            else:
                session.skip_block(now)
        except EngineError:
            continue
    slots = session.slots
    # Back to back, except where a pause came between two blocks (after a skip while paused).
    assert all(a.end_mono_us <= b.start_mono_us for a, b in pairwise(slots))
    assert all(s.duration_us >= 0 for s in slots)
    out = session.outcome()
    work_total = sum(s.duration_us for s in schedule(quiet, 0) if s.kind is BlockKind.WORK)
    assert 0 <= out.work_us <= work_total
    assert sum(r.paused_us for r in out.slots) <= paused_total
    if not any(r.status is SlotStatus.SKIPPED for r in out.slots):
        assert slots[-1].end_mono_us == schedule(quiet, 0)[-1].end_mono_us + paused_total
