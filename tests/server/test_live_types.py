"""The live message catalogue: the server publishes only its types, and the pages' copy
(web/static/js/live-types.js) lists exactly the same names and wire strings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server.live.messages import LiveType

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"
WEB = ROOT / "web" / "static"
LIVE_TYPES_JS = WEB / "js" / "live-types.js"
# Calls that put a message on the feed: LiveHub.publish, the helpers that wrap it, and the
# socket's own first message.
PUBLISHERS = {"publish", "_publish", "send_json"}
WIRE = {member.value for member in LiveType}

FREEZE = re.compile(r"export const LIVE = Object\.freeze\(\{(?P<body>.*?)\}\);", re.S)
ENTRY = re.compile(r'^\s*(?P<name>[A-Z][A-Z0-9_]*):\s*"(?P<value>[^"\\]*)",?\s*$')


def js_catalogue(text: str) -> dict[str, str]:
    """The LIVE object of live-types.js; every line of it must be one `NAME: "value",`."""
    found = FREEZE.search(text)
    assert found is not None, "live-types.js has no `export const LIVE = Object.freeze({...});`"
    entries: dict[str, str] = {}
    for line in found["body"].splitlines():
        if not line.strip() or line.strip().startswith("//"):
            continue
        entry = ENTRY.match(line)
        assert entry is not None, f'live-types.js: not a `NAME: "value",` line: {line!r}'
        assert entry["name"] not in entries, f"live-types.js names {entry['name']} twice"
        entries[entry["name"]] = entry["value"]
    return entries


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _catalogued(value: ast.expr) -> str | None:
    """The member a `type` value names (`LiveType.SPLIT`), or None if it names none."""
    if (
        isinstance(value, ast.Attribute)
        and isinstance(value.value, ast.Name)
        and value.value.id == "LiveType"
        and value.attr in LiveType.__members__
    ):
        return value.attr
    return None


def _type_values(tree: ast.AST) -> list[ast.expr]:
    """Every value given to a `type` key: in dict literals and in dict(type=...)."""
    values: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            values += [
                v for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and k.value == "type"
            ]  # fmt: skip
        elif isinstance(node, ast.Call) and _called(node) == "dict":
            values += [kw.value for kw in node.keywords if kw.arg == "type"]
    return values


def _publishes(tree: ast.AST) -> bool:
    """Whether a module puts messages on the feed or builds them (it imports server.live)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("server.live"):
            return True
        if isinstance(node, ast.Call) and _called(node) in PUBLISHERS:
            return True
    return False


def problems_in(source: str, where: str) -> tuple[list[str], set[str]]:
    """What a module does outside the catalogue, and the members it publishes."""
    tree = ast.parse(source)
    problems: list[str] = []
    used: set[str] = set()
    publishes = _publishes(tree)
    for value in _type_values(tree):
        member = _catalogued(value)
        if member is not None:
            used.add(member)
            continue
        line = f"{where}:{value.lineno}"
        if isinstance(value, ast.Constant) and value.value in WIRE:
            problems.append(f"{line}: bare {value.value!r}, not LiveType")
        elif publishes:
            problems.append(f"{line}: type {ast.unparse(value)} is not a LiveType member")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _called(node) in PUBLISHERS and node.args):
            continue
        message = node.args[0]
        # A dict spread into it (`{**message, ...}`) carries its type from where it was built.
        if isinstance(message, ast.Dict) and not any(
            k is None or (isinstance(k, ast.Constant) and k.value == "type") for k in message.keys
        ):
            problems.append(f"{where}:{node.lineno}: a message with no type")
    return problems, used


def server_scan() -> tuple[list[str], set[str]]:
    problems: list[str] = []
    used: set[str] = set()
    for path in sorted(SERVER.rglob("*.py")):
        found, members = problems_in(path.read_text(), str(path.relative_to(ROOT)))
        problems += found
        used |= members
    return problems, used


def test_the_pages_list_exactly_the_catalogue() -> None:
    assert js_catalogue(LIVE_TYPES_JS.read_text()) == {m.name: m.value for m in LiveType}


def test_the_server_publishes_only_catalogued_types() -> None:
    problems, _ = server_scan()
    assert problems == []


def test_every_catalogued_type_is_published() -> None:
    """A member nothing publishes is a type the pages wait for in vain."""
    _, used = server_scan()
    assert used == set(LiveType.__members__)


def test_the_pages_check_only_catalogued_types() -> None:
    """A page's `msg.type` test or LIVE.X names a type the server sends."""
    scripts = [p for p in WEB.rglob("*.js") if "vendor" not in p.parts and p != LIVE_TYPES_JS]
    assert scripts
    wrong: list[str] = []
    for path in scripts:
        text = path.read_text()
        for match in re.finditer(r"\bmsg\.type\s*[!=]==?\s*[\"']([^\"']*)[\"']", text):
            if match[1] not in WIRE:
                wrong.append(f"{path.name}: {match[0]}")
        for match in re.finditer(r"\bLIVE\.([A-Za-z_][A-Za-z0-9_]*)", text):
            if match[1] not in LiveType.__members__:
                wrong.append(f"{path.name}: {match[0]}")
    assert wrong == []


def test_the_scan_finds_what_it_is_for() -> None:
    """The checks above can fail: each kind of slip, in a module of its own."""
    published = 'live.publish({"type": "split", "run_id": 1})\n'
    assert problems_in(published, "m.py")[0] == ["m.py:1: bare 'split', not LiveType"]
    built = 'def message():\n    return {"type": "run", "run_id": 1}\n'
    assert problems_in(built, "m.py")[0] == ["m.py:2: bare 'run', not LiveType"]
    unknown = 'self._publish({"type": "lap", "run_id": 1})\n'
    assert problems_in(unknown, "m.py")[0] == ["m.py:1: type 'lap' is not a LiveType member"]
    no_member = "from server.live.messages import LiveType\nm = dict(type=LiveType.LAP)\n"
    assert problems_in(no_member, "m.py")[0] == [
        "m.py:2: type LiveType.LAP is not a LiveType member"
    ]
    untyped = 'socket.send_json({"clients": 3})\n'
    assert problems_in(untyped, "m.py")[0] == ["m.py:1: a message with no type"]
    fine = 'live.publish({"type": LiveType.SPLIT, "run_id": 1})\nlive.publish({**m, "x": 1})\n'
    assert problems_in(fine, "m.py") == ([], {"SPLIT"})
    # ASGI's own messages ("http.response.start") are no live type, in a module that does
    # not publish: not this test's business.
    assert problems_in('send({"type": "http.response.start"})\n', "m.py") == ([], set())
    js = 'export const LIVE = Object.freeze({\n  SPLIT: "split",\n  RUN: "run",\n});\n'
    assert js_catalogue(js) == {"SPLIT": "split", "RUN": "run"}
