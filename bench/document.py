"""docs/BENCHMARKS.md from the sections: run the chosen ones, keep the others from the last run.

Each section carries its own date, machine and command, so a document written a section at a
time still says where every figure came from.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from bench.sections import SECTIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
MARK = "<!-- section: {} -->"
END = "<!-- end: {} -->"


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _old_sections(text: str) -> dict[str, str]:
    found = {}
    for s in SECTIONS:
        m = re.search(
            re.escape(MARK.format(s.name)) + r"\n(.*?)" + re.escape(END.format(s.name)), text, re.S
        )
        if m:
            found[s.name] = m.group(1)
    return found


def write_sections(chosen: Collection[str], seed: int, command: str, write: bool = True) -> int:
    """Run the `chosen` sections in the document's order, print each, and (with `write`)
    rewrite the document; `command` is what a reader runs to reproduce them."""
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    bodies: dict[str, str] = {}
    for section in SECTIONS:
        if section.name not in chosen:
            continue
        print(f"== {section.title} ({section.name}) ...", flush=True)
        started = time.monotonic()
        result = section.run(seed)
        took = time.monotonic() - started
        body = (
            f"## {section.title}\n\n_Run by `{command}` on {stamp} ({_machine()}),"
            f" seed {seed}, in {took:.0f} s._\n\n{section.render(result)}"
        )
        bodies[section.name] = body
        print(body, flush=True)
    if not write:
        return 0
    old = _old_sections(DOC.read_text(encoding="utf-8")) if DOC.exists() else {}
    parts = [
        "# Benchmarks\n",
        f"Written by `python -m bench` (`make bench`); last written by `{command}` on {stamp}"
        f" ({_machine()}).\nEvery figure comes from the simulator on real pseudo-terminals through"
        " the real host code; the machine is shared, so compare figures within a run. Each"
        " section names the command that reproduces it. Timed figures never appear in tests.\n",
    ]
    for section in SECTIONS:
        kept = bodies.get(section.name) or old.get(section.name)
        if kept is None:
            continue
        parts.append(f"{MARK.format(section.name)}\n{kept.rstrip()}\n{END.format(section.name)}\n")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0
