"""Drill file limits (issue 16, item 6): counts and times past their limit are errors naming
the field and the limit, and nesting deep enough to exhaust tomllib's stack is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills import check_paths
from drills.limits import MAX_BLOCKS, MAX_LIST, MAX_REPS, MAX_ROLES, MAX_SEGMENTS, MAX_STIMULI
from drills.loader import load_drill_text
from tests.drills.drill_texts import INTERVALS, PODS, SHUTTLE, errors_of, line_of, sub


def _messages(text: str) -> list[str]:
    return [str(e) for e in errors_of(text)]


def test_a_billion_reps_names_the_field_and_the_limit() -> None:
    text = sub(SHUTTLE, "reps = 3", "reps = 1000000000")
    line = line_of(text, "reps = 1")
    assert _messages(text) == [f"drill.toml:{line}: reps: must be at most 50, got 1000000000"]
    at_limit = sub(SHUTTLE, "reps = 3", f"reps = {MAX_REPS}")
    assert load_drill_text(at_limit, "drill.toml").reps == MAX_REPS


def test_times_are_bounded() -> None:
    text = sub(
        sub(SHUTTLE, "rest_s = 30", "rest_s = 3601"), "reps = 3", "reps = 3\ntime_limit_s = 1e9"
    )
    assert _messages(text) == [
        f"drill.toml:{line_of(text, 'reps = 3') + 1}: time_limit_s: must be at most 3600 seconds, "
        "got 1e+09",
        f"drill.toml:{line_of(text, 'rest_s')}: rest_s: must be at most 3600 seconds, got 3601",
    ]
    blocks = sub(INTERVALS, "seconds = 30", "seconds = 86400")
    assert _messages(blocks) == [
        f"drill.toml:{line_of(blocks, 'seconds = 86400')}: blocks[0].seconds: "
        "must be at most 3600 seconds, got 86400"
    ]
    pods = sub(PODS, "window_s = 1.5", "window_s = 7200")
    assert [e.field for e in errors_of(pods)] == ["stimuli.window_s"]


def test_stimuli_count_and_lists_are_bounded() -> None:
    text = sub(PODS, "count = 10", "count = 1000000000")
    assert _messages(text) == [
        f"drill.toml:{line_of(text, 'count =')}: stimuli.count: must be at most {MAX_STIMULI}, "
        "got 1000000000"
    ]
    colours = ", ".join(['"green"'] * (MAX_LIST + 1))
    listed = sub(PODS, 'colours = ["green", "red"]', f"colours = [{colours}]")
    assert [(e.field, e.message) for e in errors_of(listed)] == [
        ("stimuli.colours", f"at most {MAX_LIST} entries, got {MAX_LIST + 1}")
    ]


def test_roles_segments_and_blocks_are_bounded() -> None:
    roles = "".join(
        f'\n[roles.r{i}]\nkind = "marker"\nx_m = 0\ny_m = {i}\n' for i in range(MAX_ROLES)
    )
    assert [(e.field, e.message) for e in errors_of(SHUTTLE + roles)] == [
        ("roles", f"at most {MAX_ROLES} roles, got {MAX_ROLES + 2}")
    ]
    leg = (
        '\n[[segments]]\nname = "x"\nfrom = "start"\nto = "turn"\ndistance_m = 5\n'
        'movement = "sprint"\n'
    )
    assert [(e.field, e.message) for e in errors_of(SHUTTLE + leg * MAX_SEGMENTS)] == [
        ("segments", f"at most {MAX_SEGMENTS} segments, got {MAX_SEGMENTS + 2}")
    ]
    block = '\n[[blocks]]\nkind = "rest"\nseconds = 1\n'
    assert [(e.field, e.message) for e in errors_of(INTERVALS + block * MAX_BLOCKS)] == [
        ("blocks", f"at most {MAX_BLOCKS} blocks, got {MAX_BLOCKS + 2}")
    ]


@pytest.mark.parametrize(
    "value",
    ["[" * 10_000 + "]" * 10_000, "{b = " * 5_000 + "1" + "}" * 5_000, "[" * 2_000 + "]" * 2_000],
    ids=["arrays-10000-deep", "inline-tables-5000-deep", "arrays-2000-deep"],
)
def test_deep_nesting_is_a_clear_error(value: str, tmp_path: Path) -> None:
    text = SHUTTLE + f"a = {value}\n"
    assert _messages(text) == ["drill.toml: not valid TOML: nested too deeply"]
    path = tmp_path / "shuttle.toml"
    path.write_text(text, encoding="utf-8")
    assert [str(e) for e in check_paths([path])] == [f"{path}: not valid TOML: nested too deeply"]
