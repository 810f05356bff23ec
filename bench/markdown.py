"""Words every section of docs/BENCHMARKS.md shares: a target's verdict, a wrapped paragraph."""

from __future__ import annotations

import textwrap

WIDTH = 96  # the width docs/BENCHMARKS.md's prose is wrapped at


def met(ok: bool) -> str:
    """A target's verdict, bold either way: a missed target is reported, never hidden."""
    return "**met**" if ok else "**NOT met**"


def wrap(text: str) -> str:
    """One paragraph at the document's width; paths, units and hyphenated words kept whole."""
    return textwrap.fill(text, width=WIDTH, break_long_words=False, break_on_hyphens=False)


def item(text: str) -> str:
    """A wrapped bullet, its continuation lines indented under the text."""
    return "- " + wrap(text).replace("\n", "\n  ")
