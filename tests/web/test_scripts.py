"""The pages' scripts read as text (no browser): every check of a live message's type names
it through the catalogue (web/static/js/live-types.js, `LIVE.SPLIT`), never as a bare string
that would silently stop matching when a type is renamed; each script stays under 400 lines;
and the helpers every page needs are written once."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "web" / "static"
SCRIPTS = sorted([*STATIC.glob("*.js"), *(STATIC / "js").rglob("*.js")])
CATALOGUE = STATIC / "js" / "live-types.js"
MAX_LINES = 400

# `.type === "split"`, `type !== 'plan'`, `"run" == msg.type`: a type compared to a string.
BARE_TYPE = re.compile(r"""\btype\s*[!=]==?\s*["'`]|["'`]\s*[!=]==?\s*[\w.]*\btype\b""")
# A Set or list of message types written as strings, as `new Set(["split", "run"])`.
TYPE_SET = re.compile(r"""(?i)\w*TYPES\s*=\s*new Set\(\[\s*["'`]""")


def _hits(pattern: re.Pattern[str]) -> list[str]:
    hits: list[str] = []
    for path in SCRIPTS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return hits


def test_the_scripts_are_found() -> None:
    assert CATALOGUE in SCRIPTS and len(SCRIPTS) > 20, SCRIPTS


def test_no_message_type_is_a_bare_string() -> None:
    assert _hits(BARE_TYPE) == []
    assert _hits(TYPE_SET) == []


def test_the_checks_would_see_a_bare_type() -> None:
    for line in ('if (msg.type === "split") {', "msg.type == 'run'", '"plan" !== m.type'):
        assert BARE_TYPE.search(line), line
    assert TYPE_SET.search('const REP_TYPES = new Set(["split", "run"]);')
    assert not BARE_TYPE.search("if (msg.type === LIVE.SPLIT) {")
    assert not BARE_TYPE.search('h("input", { type: "file" })')


def test_every_script_is_under_the_line_limit() -> None:
    long: dict[str, int] = {}
    for path in SCRIPTS:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines >= MAX_LINES:
            long[str(path.relative_to(ROOT))] = lines
    assert long == {}


def test_shared_helpers_are_defined_once() -> None:
    """Each page once had its own copy of these; they live in js/api.js, js/live.js and
    js/motion.js now."""
    for name in ("getJSON", "setStatus", "fetchExport", "quietly"):
        pattern = re.compile(rf"\bfunction {name}\b|\b(const|let) {name}\s*=")
        defined = [str(p.relative_to(ROOT)) for p in SCRIPTS if pattern.search(p.read_text())]
        assert len(defined) <= 1, (name, defined)
    restarts = _hits(re.compile(r"void \w+\.offsetWidth"))
    assert [hit.split(":")[0] for hit in restarts] == ["web/static/js/motion.js"], restarts
