"""Reactive targets and the links between files (twins, mirrors) checked across a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.errors import DrillFileError
from drills.loader import check_paths, load_library
from tests.drills.drill_texts import SHUTTLE, Y, errors_of, line_of, sub


@pytest.mark.parametrize(
    ("text", "field", "fragment", "marker"),
    [
        (
            sub(Y, '"left", "right"]', '"left", "centre"]'),
            "target_choice.options[1]",
            "no role named 'centre'",
            "options =",
        ),
        (
            sub(Y, '"left", "right"]', '"left"]'),
            "target_choice.options",
            "at least two",
            "options =",
        ),
        (
            sub(Y, 'role = "target"', 'role = "start"'),
            "target_choice.role",
            "already a role",
            'role = "start"',
        ),
        (
            sub(Y, 'to = "trigger"', 'to = "target"'),
            "segments[0].to",
            "may only end the last",
            'to = "target"',
        ),
        (
            sub(Y, 'to = "target"', 'to = "left"'),
            "target_choice.role",
            "no timed segment ends at 'target'",
            'role = "target"',
        ),
    ],
    ids=["unknown option", "one option", "name clash", "target mid-course", "target unused"],
)
def test_target_choice_rules(text: str, field: str, fragment: str, marker: str) -> None:
    errors = errors_of(text)
    assert any(
        e.field == field and fragment in e.message and e.line == line_of(text, marker)
        for e in errors
    ), [str(e) for e in errors]


# --- links between files (folder checks) -------------------------------------------------


def _write(folder: Path, slug: str, extra: str, direction: str = "mixed") -> Path:
    text = sub(SHUTTLE, 'slug = "shuttle"', f'slug = "{slug}"')
    text = sub(text, 'direction = "mixed"', f'direction = "{direction}"\n{extra}')
    path = folder / f"{slug}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_mirrors_must_name_each_other(tmp_path: Path) -> None:
    left = _write(tmp_path, "cut-left", 'mirror = "cut-right"')
    _write(tmp_path, "cut-right", 'mirror = "cut-other"')
    _write(tmp_path, "cut-other", "")
    errors = check_paths([tmp_path])
    messages = [str(e) for e in errors]
    line = line_of(left.read_text("utf-8"), "mirror =")
    assert (
        f"{left}:{line}: mirror: 'cut-right' names 'cut-other' as its mirror, not 'cut-left'"
        in (messages)
    )
    assert any("cut-right.toml" in m and "'cut-other' names nothing" in m for m in messages)
    with pytest.raises(DrillFileError):
        load_library(tmp_path)


def test_twins_must_name_back_and_pair_forward_with_backward(tmp_path: Path) -> None:
    _write(tmp_path, "run-f", 'twin = "run-b"', "forward")
    _write(tmp_path, "run-b", "", "backward")  # names no twin back
    _write(tmp_path, "go-f", 'twin = "go-b"', "forward")
    _write(tmp_path, "go-b", 'twin = "go-f"', "forward")  # both forward
    _write(tmp_path, "missing", 'twin = "nobody"', "forward")
    messages = [str(e) for e in check_paths([tmp_path])]
    assert any("run-f.toml" in m and "'run-b' names nothing as its twin" in m for m in messages)
    assert any("go-f.toml" in m and "one forward and one backward" in m for m in messages)
    assert any("missing.toml" in m and "twin: no drill 'nobody'" in m for m in messages)


def test_twins_must_time_the_same_distance(tmp_path: Path) -> None:
    _write(tmp_path, "run-f", 'twin = "run-b"', "forward")
    path = _write(tmp_path, "run-b", 'twin = "run-f"', "backward")
    path.write_text(path.read_text("utf-8").replace("distance_m = 5\n", "distance_m = 6\n", 1))
    messages = [str(e) for e in check_paths([tmp_path])]
    assert any("twins must time the same distance" in m for m in messages), messages
