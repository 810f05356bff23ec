"""`python -m bench`: run every benchmark, print it, and rewrite docs/BENCHMARKS.md.

With `--only NAME` (repeatable) just those sections run; the document keeps the other
sections from the last full run, each of which carries its own date and command.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
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


def main() -> int:
    names = [s.name for s in SECTIONS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=names, help="run just this section")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    chosen = args.only or names
    command = "make bench" if len(sys.argv) == 1 else "python -m bench " + " ".join(sys.argv[1:])
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    bodies: dict[str, str] = {}
    for section in SECTIONS:
        if section.name not in chosen:
            continue
        print(f"== {section.title} ({section.name}) ...", flush=True)
        started = time.monotonic()
        result = section.run(args.seed)
        took = time.monotonic() - started
        body = (
            f"## {section.title}\n\n_Run by `{command}` on {stamp} ({_machine()}),"
            f" seed {args.seed}, in {took:.0f} s._\n\n{section.render(result)}"
        )
        bodies[section.name] = body
        print(body, flush=True)
    if args.no_write:
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
        body = kept
        parts.append(f"{MARK.format(section.name)}\n{body.rstrip()}\n{END.format(section.name)}\n")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
