"""Loader tests: the built-in library loads, and broken files report every problem found."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.errors import DrillError, DrillFileError
from drills.loader import LIBRARY_DIR, check_paths, load_drill, load_drill_text, load_library
from drills.model import Category, Direction, Movement, RoleKind, StartType

GOOD = """\
format = 1
slug = "shuttle"
name = "Shuttle"
purpose = "Out and back."
category = "change-of-direction"
direction = "mixed"

[start]
type = "auto"
stance = "standing"

[roles.start]
kind = "gate"
position_m = 0.0
[roles.turn]
kind = "pod"
position_m = 5

[[segments]]
from = "start"
to = "turn"
distance_m = 5
movement = "sprint"

[[segments]]
from = "turn"
to = "start"
distance_m = 5.0
movement = "backpedal"
"""

BROKEN = """\
format = 1
slug = "Bad Slug"
name = "Broken"
purpose = "Has many problems."
category = "sideways"
direction = "backward"
time_limit_s = 0
rearm_s = -1
colour = "red"

[start]
type = "reactive"
stance = "standing"

[roles.start]
kind = "gate"
position_m = 0.0
[roles.finish]
kind = "laser"
position_m = 10.0

[[segments]]
from = "start"
to = "middle"
distance_m = 5.0
movement = "backward-run"

[[segments]]
from = "start"
to = "finish"
distance_m = -5.0
movement = "moonwalk"

[[segments]]
from = "finish"
to = "nowhere"
movement = "sprint"
"""


def by_field(errors: list[DrillError]) -> dict[str, DrillError]:
    return {e.field: e for e in errors}


def test_library_loads_both_twins() -> None:
    library = load_library()
    assert {"backward-sprint-10m", "sprint-10m"} <= set(library)
    back = library["backward-sprint-10m"]
    fwd = library["sprint-10m"]
    assert back.twin == fwd.slug and fwd.twin == back.slug
    assert back.direction is Direction.BACKWARD and fwd.direction is Direction.FORWARD
    assert back.category is Category.LINEAR
    assert back.start.type is StartType.AUTO
    assert "back to the lane" in back.start.stance
    assert back.roles["start"].kind is RoleKind.GATE
    assert back.roles["finish"].position_m == 10.0
    assert back.segments[0].movement is Movement.BACKWARD_RUN
    assert fwd.segments[0].movement is Movement.SPRINT
    assert back.start_role == "start"
    assert back.roles_in_order == ("start", "finish")
    assert back.time_limit_us == 10_000_000
    assert back.rearm_us == 500_000
    assert back.source is not None and "Uthoff" in back.source


def test_library_files_pass_check_paths() -> None:
    assert check_paths([LIBRARY_DIR]) == []


def test_defaults_and_segment_names() -> None:
    drill = load_drill_text(GOOD, "shuttle.toml")
    assert drill.time_limit_us == 30_000_000
    assert drill.rearm_us == 500_000
    assert drill.twin is None and drill.source is None
    assert [s.name for s in drill.segments] == ["start-turn", "turn-start"]
    assert drill.roles_in_order == ("start", "turn", "start")
    assert drill.distance_m == 10.0
    hash(drill)  # usable as a dict key despite holding a dict of roles


def test_broken_file_reports_every_problem_with_fields_and_lines() -> None:
    with pytest.raises(DrillFileError) as info:
        load_drill_text(BROKEN, "broken.toml")
    errors = info.value.errors
    found = by_field(errors)
    expected_lines = {
        "slug": 2,
        "category": 5,
        "time_limit_s": 7,
        "rearm_s": 8,
        "colour": 9,
        "start.cue": 11,  # reactive start without a cue: points at the [start] header
        "roles.finish.kind": 19,
        "segments[0].to": 24,
        "segments[1].distance_m": 31,
        "segments[1].movement": 32,
        "segments[2].to": 36,
        "segments[2].distance_m": 34,  # missing: points at the segment's header
    }
    for field, line in expected_lines.items():
        assert field in found, f"no error for {field}: {[str(e) for e in errors]}"
        assert found[field].line == line, str(found[field])
        assert found[field].file == "broken.toml"
    assert found["start.cue"].message == "missing required field"
    assert "unknown key 'colour'" in found["colour"].message
    assert "missing" in found["segments[2].distance_m"].message
    assert "no role named 'nowhere'" in found["segments[2].to"].message
    # segments[1] starts at "start" but segments[0] ended at "middle": not a chain.
    assert "chain" in found["segments[1].from"].message
    assert str(found["slug"]).startswith("broken.toml:2: slug: ")
    assert len(errors) >= len(expected_lines)


def test_bad_toml_reports_the_line() -> None:
    text = 'format = 1\nslug = "x"\nname = = "oops"\n'
    with pytest.raises(DrillFileError) as info:
        load_drill_text(text, "bad.toml")
    [error] = info.value.errors
    assert error.line == 3
    assert error.field == ""
    assert str(error).startswith("bad.toml:3: not valid TOML")


def test_wrong_types_are_named() -> None:
    text = GOOD.replace('name = "Shuttle"', "name = 3").replace(
        "distance_m = 5\n", "distance_m = true\n"
    )
    text = text.replace("[roles.turn]", "[roles.turn]\nposition_x = 1")
    with pytest.raises(DrillFileError) as info:
        load_drill_text(text, "shuttle.toml")
    found = by_field(info.value.errors)
    assert found["name"].message == "must be a string, not integer"
    assert found["segments[0].distance_m"].message == "must be a number, not boolean"
    assert "did you mean 'position_m'" in found["roles.turn.position_x"].message


def test_missing_top_level_fields() -> None:
    with pytest.raises(DrillFileError) as info:
        load_drill_text("format = 1\n", "empty.toml")
    fields = {e.field for e in info.value.errors}
    assert {
        "slug",
        "name",
        "purpose",
        "category",
        "direction",
        "start",
        "roles",
        "segments",
    } <= fields
    assert all(e.line is None for e in info.value.errors if e.field == "slug")


def test_unsupported_format_and_unknown_start_type() -> None:
    text = GOOD.replace("format = 1", "format = 2").replace('type = "auto"', 'type = "telepathy"')
    with pytest.raises(DrillFileError) as info:
        load_drill_text(text, "shuttle.toml")
    found = by_field(info.value.errors)
    assert "not supported" in found["format"].message
    assert "unknown value 'telepathy'" in found["start.type"].message
    assert "coach-go" in found["start.type"].message


def test_slug_must_match_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "other-name.toml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(DrillFileError) as info:
        load_drill(path)
    [error] = info.value.errors
    assert error.field == "slug" and error.line == 2
    assert "other-name" in error.message
    (tmp_path / "shuttle.toml").write_text(GOOD, encoding="utf-8")
    assert load_drill(tmp_path / "shuttle.toml").slug == "shuttle"


def test_check_paths_collects_across_files_and_twins(tmp_path: Path) -> None:
    """A folder is checked as a library: a twin that does not exist is reported there."""
    (tmp_path / "shuttle.toml").write_text(
        GOOD.replace('direction = "mixed"', 'direction = "mixed"\ntwin = "ghost"'), "utf-8"
    )
    (tmp_path / "bad.toml").write_text("format = [", "utf-8")
    errors = check_paths([tmp_path, tmp_path / "missing.toml"])
    messages = [str(e) for e in errors]
    assert any("bad.toml:1: not valid TOML" in m for m in messages), messages
    assert any("shuttle.toml:7: twin: no drill 'ghost'" in m for m in messages), messages
    assert any("missing.toml: no such file" in m for m in messages), messages
    with pytest.raises(DrillFileError):
        load_library(tmp_path)
    # A single file is checked on its own: its twin may live in another folder.
    assert check_paths([tmp_path / "shuttle.toml"]) == []


def test_error_str_without_line_or_field() -> None:
    assert str(DrillError("a.toml", "slug", "missing required field")) == (
        "a.toml: slug: missing required field"
    )
    assert str(DrillError("a.toml", "", "cannot read", 4)) == "a.toml:4: cannot read"


def test_readme_example_is_a_valid_drill() -> None:
    readme = (LIBRARY_DIR.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    drill = load_drill_text(example, "README.md", expected_slug="backward-sprint-10m")
    assert drill.segments[0].movement is Movement.BACKWARD_RUN


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    [error] = check_paths([path])
    assert "not UTF-8" in error.message
