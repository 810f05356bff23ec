"""The layer rule of DESIGN.md: imports point down only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "hardware": {"server", "drills", "web"},
    "drills": {"server", "hardware", "web"},
}
# The one way across: the clock vocabulary is a leaf both layers share, so drills names and
# converts time exactly as the hardware does.
ALLOWED = {"drills": {"hardware.timebase"}}
LEAF = ROOT / "hardware" / "timebase.py"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def imported_packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def forbidden_imports(path: Path, layer: str) -> set[str]:
    allowed = ALLOWED.get(layer, set())
    return {
        name
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[layer] and name not in allowed
    }


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer: str) -> None:
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no Python files under {layer}/"
    offenders = [
        f"{path.relative_to(ROOT)} imports {bad}"
        for path in files
        for bad in sorted(forbidden_imports(path, layer))
    ]
    assert not offenders, "\n".join(offenders)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from server.app import create_app\nimport drills.engine\n")
    assert {"server", "drills"} <= imported_packages(bad)


def test_drills_may_import_the_clock_leaf_and_nothing_else_of_hardware(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.py"
    mixed.write_text(
        "from hardware.timebase import ticks_to_us\nfrom hardware.link import SerialLink\n"
    )
    assert forbidden_imports(mixed, "drills") == {"hardware.link"}


def test_the_clock_leaf_imports_only_the_standard_library() -> None:
    outside = {
        name
        for name in imported_packages(LEAF)
        if name != "__future__" and name not in sys.stdlib_module_names
    }
    assert not outside, f"hardware/timebase.py must stay a leaf, imports {sorted(outside)}"
