"""The command line is listed in one place (server/cli.py): every command there reaches the
code of its area, and no area builds argparse parsers of its own."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

from server.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [path]
    return [leaf for name, sp in subs[0].choices.items() for leaf in _leaves(sp, (*path, name))]


LEAVES = _leaves(build_parser(), ())


def test_every_area_command_is_listed() -> None:
    tops = {leaf[0] for leaf in LEAVES}
    areas = {"serve", "demo", "devices", "migrate", "run", "plans", "coach", "norms", "export"}
    assert areas | {"drills"} <= tops
    assert ("plans", "abort") in LEAVES and ("norms", "rate") in LEAVES


@pytest.mark.parametrize("leaf", LEAVES, ids=[" ".join(leaf) for leaf in LEAVES])
def test_every_command_has_code_to_run(leaf: tuple[str, ...]) -> None:
    parser = build_parser()
    for name in leaf:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    func = parser.get_default("func")
    assert callable(func), f"agility {' '.join(leaf)} runs nothing"


def test_no_area_builds_a_parser() -> None:
    builders = {"ArgumentParser", "add_parser", "add_subparsers", "add_argument"}
    found = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "server/cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in builders:
                found.append(f"{rel}:{node.lineno} {node.attr}")
    assert found == [], "argparse belongs in server/cli.py"
